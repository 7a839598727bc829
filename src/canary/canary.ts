import { setTimeout as sleep } from 'node:timers/promises'
import type { RunReport } from '../scorecard/run-score.js'
import { canaryLine } from '../scorecard/token.js'
import { parseCanaryOptions, USAGE, UsageError, type CanaryOptions } from './options.js'
import { verdictOf, verdictTable } from './verdict.js'
import { lineWriter } from './writers.js'

/** Could not reach logfire, or logfire refused to talk: exit 2. */
class ConnectionError extends Error {}

/** `logfire canary ...`: writes, waits, judges. Resolves with the exit status. */
export async function runCanary (args: string[], clock: () => number = Date.now): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + '\n')
    return 0
  }
  let options: CanaryOptions
  try {
    options = parseCanaryOptions(args)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`logfire canary: ${error.message}\n\n${USAGE}\n`)
    return 2
  }
  try {
    if (options.newFire) options = await withNewFire(options)
    await scorecard(options, 'PUT')
    const sent = await writeLines(options, clock)
    const { report, stillArriving } = await settle(options, sent, waitingReporter(options, sent))
    const verdict = verdictOf(sent, report, options, stillArriving)
    process.stdout.write((options.json ? JSON.stringify(verdict, null, 2) : verdictTable(verdict)) + '\n')
    return verdict.failures.length === 0 ? 0 : 1
  } catch (error) {
    if (!(error instanceof ConnectionError)) throw error
    process.stderr.write(`logfire canary: ${error.message}\n`)
    return 2
  }
}

/** --new-fire: a fire of the canary's own, on an open instance; its page goes to stderr, for a browser. */
async function withNewFire (options: CanaryOptions): Promise<CanaryOptions> {
  let response: Response
  try {
    response = await fetch(`${options.logfire}/fires`, { method: 'POST' })
  } catch (error) {
    throw new ConnectionError(`cannot reach logfire at ${options.logfire} (${(error as Error).message}); is it running? --logfire sets where`)
  }
  if (!response.ok) throw new ConnectionError(`POST ${options.logfire}/fires answered ${response.status}: ${(await response.text()).slice(0, 200)}${response.status === 404 ? ' (is LOGFIRE_FIRES=open?)' : ''}`)
  const fire = await response.json() as { id: string, ingestToken: string, viewToken: string, page: string }
  process.stderr.write(`canary ${options.run}: a new fire, ${fire.id}; watch it at ${fire.page}\n`)
  return { ...options, token: fire.ingestToken, viewToken: fire.viewToken }
}

async function writeLines (options: CanaryOptions, clock: () => number): Promise<number> {
  let writer: Awaited<ReturnType<typeof lineWriter>>
  try {
    writer = await lineWriter(options.to, options.token)
  } catch (error) {
    throw new ConnectionError(`cannot connect to ${options.to} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  const progress = progressReporter(options)
  const start = performance.now()
  let seq = 0
  while (seq < options.count) {
    // Every line due by now, then a short sleep: the rate holds on average.
    const due = Math.min(options.count, Math.floor(((performance.now() - start) / 1000) * options.rate) + 1)
    while (seq < due) {
      seq += 1
      await writer.write(canaryLine(options.run, seq, clock(), options.size))
    }
    progress(seq)
    if (seq < options.count) await sleep(Math.max(1, Math.min(50, 1000 / options.rate)))
  }
  await writer.close()
  progress(seq, true)
  return seq
}

/** Where a run's scorecard is read, and how long to wait for its stragglers. */
export type ScorecardAccess = Pick<CanaryOptions, 'logfire' | 'run' | 'token' | 'settleMs' | 'deadlineMs'> & Partial<Pick<CanaryOptions, 'viewToken'>>

/** Where the wait for stragglers is: for a progress line. */
export interface Waiting { arrived: number, quietMs: number, elapsedMs: number }

// How far back the arrival rate at the deadline is measured.
const RATE_WINDOW_MS = 5000

/**
 * The run's scorecard once every line has arrived, or once none has arrived
 * for the settle time (a quiet period, not a fixed wait: a shipper backing
 * off between retries is still delivering), or at the deadline. At the
 * deadline, `stillArriving` is the arrival rate over the last few seconds,
 * lines a second, when lines were still coming in.
 */
export async function settle (options: ScorecardAccess, sent: number, progress: (waiting: Waiting) => void = () => {}): Promise<{ report: RunReport | undefined, stillArriving?: number }> {
  const began = performance.now()
  const deadline = began + options.deadlineMs
  let lastArrived = -1
  let lastChange = began
  const samples: Array<{ at: number, arrived: number }> = []
  for (;;) {
    const report = await scorecard(options, 'GET')
    const now = performance.now()
    const arrived = report?.delivered ?? 0
    if (report !== undefined && report.unique >= sent) return { report }
    if (arrived !== lastArrived) {
      lastArrived = arrived
      lastChange = now
    }
    samples.push({ at: now, arrived })
    while (samples.length > 1 && (samples[0] as { at: number }).at < now - RATE_WINDOW_MS) samples.shift()
    if (now - lastChange >= options.settleMs) return { report }
    if (now >= deadline) {
      const oldest = samples[0] as { at: number, arrived: number }
      const rate = now > oldest.at ? (arrived - oldest.arrived) / ((now - oldest.at) / 1000) : 0
      return rate > 0 ? { report, stillArriving: rate } : { report }
    }
    progress({ arrived, quietMs: now - lastChange, elapsedMs: now - began })
    await sleep(Math.min(500, Math.max(0, Math.min(deadline, lastChange + options.settleMs) - now)))
  }
}

/** GET reads a run's scorecard (undefined before its first line); PUT starts the run. */
export async function scorecard (options: ScorecardAccess, method: 'GET' | 'PUT'): Promise<RunReport | undefined> {
  const url = `${options.logfire}/scorecard/${options.run}`
  let response: Response
  try {
    // A run is started with the token that writes, and read with the one that reads, when they differ.
    const token = method === 'GET' ? options.viewToken ?? options.token : options.token
    response = await fetch(url, { method, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } })
  } catch (error) {
    throw new ConnectionError(`cannot reach logfire at ${options.logfire} (${(error as Error & { cause?: { code?: string } }).cause?.code ?? (error as Error).message}); is it running? --logfire sets where`)
  }
  if (response.status === 404 && method === 'GET') return undefined
  if (!response.ok) throw new ConnectionError(`${method} ${url} answered ${response.status}: ${(await response.text()).slice(0, 200)}`)
  return await response.json() as RunReport
}

// While it waits: a line every few seconds, so a long wait never looks hung.
function waitingReporter (options: CanaryOptions, sent: number): (waiting: Waiting) => void {
  let shown = -Infinity
  return ({ arrived, quietMs, elapsedMs }) => {
    if (elapsedMs - shown < 2000) return
    shown = elapsedMs
    process.stderr.write(`canary ${options.run}: waiting, ${arrived}/${sent} arrived, quiet for ${(quietMs / 1000).toFixed(1)} s (settle ${options.settleMs / 1000} s, deadline ${options.deadlineMs / 1000} s)\n`)
  }
}

// A bar on a terminal; plain lines otherwise, about every tenth of the run.
function progressReporter (options: CanaryOptions): (written: number, done?: boolean) => void {
  const tty = process.stderr.isTTY
  let lastTenth = -1
  return (written, done = false) => {
    const share = options.count === 0 ? 1 : written / options.count
    if (tty) {
      const width = 30
      const filled = Math.round(share * width)
      process.stderr.write(`\r${options.run} [${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${written}/${options.count}${done ? '\n' : ''}`)
      return
    }
    const tenth = Math.floor(share * 10)
    if (tenth > lastTenth || done) {
      lastTenth = tenth
      process.stderr.write(`canary ${options.run}: ${written}/${options.count} lines written${done ? ', waiting for stragglers' : ''}\n`)
    }
  }
}
