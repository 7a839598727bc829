import { RunScore, type RunReport } from './run-score.js'
import { findToken } from './token.js'

export interface ScorecardOptions {
  /** Runs kept at once; past it the least recently active is forgotten. */
  maxRuns?: number
  /** Distinct gaps kept per run before its counts turn approximate. */
  maxRangesPerRun?: number
  /**
   * A run counts the chaos of requests refused before their body was read
   * while it is active: from its start until this long after its last line.
   */
  activeMs?: number
}

/**
 * Every canary run logfire has seen, in memory, bounded. Lines are counted
 * when they are stored; the chaos of requests whose body was never read
 * (lp0, a rate limit, a reset) cannot be tied to a run by content, so it is
 * counted for every run active at that moment.
 */
export class Scorecard {
  readonly #runs = new Map<string, RunScore>()
  readonly #maxRuns: number
  readonly #maxRangesPerRun: number | undefined
  readonly #activeMs: number
  #malformed = 0

  constructor (options: ScorecardOptions = {}) {
    this.#maxRuns = options.maxRuns ?? 100
    this.#maxRangesPerRun = options.maxRangesPerRun
    this.#activeMs = options.activeMs ?? 30_000
  }

  /** Entries with a mark but no valid token: counted, never a crash. */
  get malformed (): number {
    return this.#malformed
  }

  /** Starts a run before its first line arrives (the canary announces itself), so early refusals count. */
  start (run: string, now: number): void {
    this.#run(run, now)
  }

  /** Entries stored at `now`: the canary's lines among them are counted. */
  stored (entries: readonly string[], now: number): void {
    for (const entry of entries) {
      const found = findToken(entry)
      if (found === undefined) continue
      if (found === 'malformed') this.#malformed += 1
      else this.#run(found.run, now).delivered(found, now)
    }
  }

  /** A request's canary lines refused whole with it (410, 451, 413), by run. */
  refused (lines: Record<string, number>, status: number): void {
    for (const [run, count] of Object.entries(lines)) this.#runs.get(run)?.refused(status, count)
  }

  /** A request refused or cut: counted for every run active at `now`. */
  chaos (outcome: string, now: number): void {
    for (const score of this.#runs.values()) {
      if (now - score.lastActivity <= this.#activeMs) score.chaos(outcome)
    }
  }

  /** The chain burned: every run loses the lines it had stored. */
  burned (): void {
    for (const score of this.#runs.values()) score.burned()
  }

  report (run: string): RunReport | undefined {
    return this.#runs.get(run)?.report()
  }

  reports (): RunReport[] {
    return [...this.#runs.values()].map((score) => score.report())
  }

  forget (run: string): boolean {
    return this.#runs.delete(run)
  }

  #run (run: string, now: number): RunScore {
    let score = this.#runs.get(run)
    if (score !== undefined) {
      // Most recently active last: the first in the map is the one to evict.
      this.#runs.delete(run)
    } else {
      score = new RunScore(run, now, this.#maxRangesPerRun)
      if (this.#runs.size >= this.#maxRuns) this.#runs.delete(this.#runs.keys().next().value as string)
    }
    this.#runs.set(run, score)
    return score
  }
}
