import { RangeSet } from './ranges.js'
import type { CanaryToken } from './token.js'

/** Latency buckets, upper bounds in ms; the last catches everything above. */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, Infinity] as const

/** What the chaos did while a run was being delivered: by outcome, requests or lines. */
export type Outcomes = Record<string, number>

/** One canary run's delivery, as logfire saw it: JSON for GET /scorecard/:run. */
export interface RunReport {
  run: string
  /** Entries that carried this run's token, copies included. */
  delivered: number
  /** Distinct sequence numbers delivered. */
  unique: number
  /** Extra copies: delivered minus unique. */
  duplicates: number
  /**
   * The duplicates by the fault that came last before each arrived (a
   * resend follows the fault that made the shipper resend): "forward
   * ack-loss", "relp reset-after-append", "reset-after-append"; "no fault"
   * when the run had met none yet.
   */
  duplicatesAfter: Outcomes
  /** The highest sequence number delivered; -1 before any. */
  highest: number
  /** Numbers between the lowest and the highest delivered that never came: gaps, not the tail. */
  missing: number
  /** Numbers that arrived after a higher one. */
  reordered: number
  latencyMs: { p50: number, p99: number, max: number, buckets: Array<{ le: number | '+Inf', count: number }> }
  firstArrival: number | undefined
  lastArrival: number | undefined
  started: number
  /** Requests refused or cut while this run was being delivered, by outcome. */
  chaos: Outcomes
  /** Lines of this run refused whole with their request (a 410, a 451, a 413), by status. */
  refusedLines: Outcomes
  /** Lines delivered, stored, and then lost when the chain burned: logfire's loss, not the shipper's. */
  burnedAfterDelivery: number
  /** The seen-numbers cap was reached: counts past it are approximate. */
  approximate: boolean
}

const NO_FAULT = 'no fault'

/**
 * The running counts of one canary run. Memory grows with the gaps in what
 * arrived (see RangeSet), never with the number of lines.
 */
export class RunScore {
  readonly run: string
  readonly started: number
  readonly #seen: RangeSet
  #delivered = 0
  #reordered = 0
  #highest = -1
  #maxLatency = 0
  #firstArrival: number | undefined
  #lastArrival: number | undefined
  #inChain = 0
  #burnedAfterDelivery = 0
  readonly #latency = new Array<number>(LATENCY_BUCKETS_MS.length).fill(0)
  readonly #chaos: Outcomes = {}
  readonly #refusedLines: Outcomes = {}
  readonly #duplicatesAfter: Outcomes = {}
  #lastFault = NO_FAULT

  constructor (run: string, started: number, maxRanges?: number) {
    this.run = run
    this.started = started
    this.#seen = new RangeSet(maxRanges)
  }

  get lastActivity (): number {
    return this.#lastArrival ?? this.started
  }

  /** A line of this run, stored at `arrival`. */
  delivered (token: CanaryToken, arrival: number): void {
    this.#delivered += 1
    this.#inChain += 1
    this.#firstArrival ??= arrival
    this.#lastArrival = arrival
    const first = this.#seen.add(token.seq)
    if (!first) {
      this.#duplicatesAfter[this.#lastFault] = (this.#duplicatesAfter[this.#lastFault] ?? 0) + 1
      return
    }
    if (token.seq < this.#highest) this.#reordered += 1
    else this.#highest = token.seq
    const latency = Math.max(0, arrival - token.sent)
    this.#maxLatency = Math.max(this.#maxLatency, latency)
    let bucket = 0
    while (latency > LATENCY_BUCKETS_MS[bucket]!) bucket++
    this.#latency[bucket]! += 1
  }

  /** The chain burned: the lines of this run it held are gone. */
  burned (): void {
    this.#burnedAfterDelivery += this.#inChain
    this.#inChain = 0
  }

  /** A request refused or cut while this run was being delivered. */
  chaos (outcome: string): void {
    this.#chaos[outcome] = (this.#chaos[outcome] ?? 0) + 1
    this.#lastFault = outcome
  }

  /** Lines of this run refused whole with their request. */
  refused (status: number, lines: number): void {
    this.#refusedLines[status] = (this.#refusedLines[status] ?? 0) + lines
  }

  report (): RunReport {
    const unique = this.#seen.size
    const total = this.#latency.reduce((sum, count) => sum + count, 0)
    const percentile = (p: number): number => {
      if (total === 0) return 0
      let seen = 0
      for (let i = 0; i < this.#latency.length; i++) {
        seen += this.#latency[i]!
        if (seen >= p * total) return Math.min(LATENCY_BUCKETS_MS[i]!, this.#maxLatency)
      }
      return this.#maxLatency
    }
    return {
      run: this.run,
      delivered: this.#delivered,
      unique,
      duplicates: this.#delivered - unique,
      duplicatesAfter: { ...this.#duplicatesAfter },
      highest: this.#highest,
      missing: unique === 0 ? 0 : this.#highest - this.#seen.min + 1 - unique,
      reordered: this.#reordered,
      latencyMs: {
        p50: percentile(0.5),
        p99: percentile(0.99),
        max: this.#maxLatency,
        buckets: LATENCY_BUCKETS_MS.map((le, i) => ({ le: le === Infinity ? '+Inf' as const : le, count: this.#latency[i]! }))
      },
      firstArrival: this.#firstArrival,
      lastArrival: this.#lastArrival,
      started: this.started,
      chaos: { ...this.#chaos },
      refusedLines: { ...this.#refusedLines },
      burnedAfterDelivery: this.#burnedAfterDelivery,
      approximate: this.#seen.overflowed
    }
  }
}
