import type { RunReport } from '../scorecard/run-score.js'
import type { CanaryOptions } from './options.js'

export interface Verdict {
  run: string
  sent: number
  delivered: number
  lost: number
  duplicated: number
  /** The duplicates by the fault that preceded them. */
  duplicatedAfter: Record<string, number>
  reordered: number
  latencyMs: { p50: number, p99: number, max: number }
  /** What the chaos did while the run was delivered: outcomes, refused lines, lines burned after delivery. */
  chaos: Record<string, number>
  refusedLines: Record<string, number>
  burnedAfterDelivery: number
  /** Lines a second still arriving when the deadline came: the shipper was still delivering, so "lost" is not final. */
  stillArriving?: number
  /** The thresholds that failed, in words; empty when the run passes. */
  failures: string[]
}

/** The run's verdict: what the canary sent, against what logfire counted. */
export function verdictOf (sent: number, report: RunReport | undefined, options: Pick<CanaryOptions, 'run' | 'thresholds'>, stillArriving?: number): Verdict {
  const unique = report?.unique ?? 0
  const verdict: Verdict = {
    run: options.run,
    sent,
    delivered: unique,
    lost: Math.max(0, sent - unique),
    duplicated: report?.duplicates ?? 0,
    duplicatedAfter: report?.duplicatesAfter ?? {},
    reordered: report?.reordered ?? 0,
    latencyMs: { p50: report?.latencyMs.p50 ?? 0, p99: report?.latencyMs.p99 ?? 0, max: report?.latencyMs.max ?? 0 },
    chaos: report?.chaos ?? {},
    refusedLines: report?.refusedLines ?? {},
    burnedAfterDelivery: report?.burnedAfterDelivery ?? 0,
    ...(stillArriving === undefined ? {} : { stillArriving }),
    failures: []
  }
  // Not a verdict on loss: the run ended before the shipper did.
  if (stillArriving !== undefined) verdict.failures.push(`still arriving: ${stillArriving.toFixed(1)} lines/s at the deadline`)
  const { thresholds } = options
  const check = (what: string, value: number, max: number | undefined) => {
    if (max !== undefined && value > max) verdict.failures.push(`${what}: ${value}, more than ${max}`)
  }
  check('lost', verdict.lost, thresholds.lost)
  check('duplicated', verdict.duplicated, thresholds.duplicates)
  check('reordered', verdict.reordered, thresholds.reordered)
  check('p99 latency (ms)', verdict.latencyMs.p99, thresholds.p99Ms)
  return verdict
}

/** The verdict as a table for people. */
export function verdictTable (verdict: Verdict): string {
  const rows: Array<[string, string]> = [
    ['run', verdict.run],
    ['sent', String(verdict.sent)],
    ['delivered', String(verdict.delivered)],
    ['lost', verdict.stillArriving === undefined ? String(verdict.lost) : `${verdict.lost} not yet (still arriving: ${verdict.stillArriving.toFixed(1)} lines/s)`],
    ['duplicated', String(verdict.duplicated)],
    ...Object.entries(verdict.duplicatedAfter).map(([fault, count]): [string, string] => [`  after ${fault}`, `${count} lines`]),
    ['reordered', String(verdict.reordered)],
    ['latency p50', `${verdict.latencyMs.p50} ms`],
    ['latency p99', `${verdict.latencyMs.p99} ms`],
    ['latency max', `${verdict.latencyMs.max} ms`],
    ['burned after delivery', `${verdict.burnedAfterDelivery} (logfire's loss, not the shipper's)`],
    ...Object.entries(verdict.chaos).map(([outcome, count]): [string, string] => [`chaos: ${outcome}`, `${count} requests`]),
    ...Object.entries(verdict.refusedLines).map(([status, count]): [string, string] => [`refused with ${status}`, `${count} lines`])
  ]
  const width = Math.max(...rows.map(([name]) => name.length))
  const result = verdict.failures.length === 0 ? 'PASS' : `FAIL: ${verdict.failures.join('; ')}`
  return [...rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`), '', result].join('\n')
}
