import type { RuleWindow } from './rule.js'

/**
 * A flatline rule's watch: it fires once when fewer than `threshold`
 * matches fall within the window, and resolves when there are enough
 * again. The first window starts when the watch does.
 */
export class FlatlineWatch {
  // The latest `threshold` matches, oldest first: the window holds
  // `threshold` matches exactly when the oldest of them is inside it.
  readonly #latest: number[] = []
  #firing = false

  constructor (private readonly window: RuleWindow, private readonly startedAt: number) {}

  get firing (): boolean { return this.#firing }

  /** Matches within the window that ends at `now`. */
  count (now: number): number {
    return this.#latest.filter((time) => time > now - this.window.withinMs).length
  }

  /** When the count drops below the threshold, unless a match comes first. */
  get deadline (): number {
    const { threshold, withinMs } = this.window
    return (this.#latest.length < threshold ? this.startedAt : this.#latest[0] as number) + withinMs
  }

  /** A match at `now`: true when it ends a flatline. */
  record (now: number): boolean {
    this.#latest.push(now)
    if (this.#latest.length > this.window.threshold) this.#latest.shift()
    if (!this.#firing || this.count(now) < this.window.threshold) return false
    this.#firing = false
    return true
  }

  /** Looked at when the deadline has come: true when this starts a flatline. */
  check (now: number): boolean {
    if (this.#firing || now < this.deadline) return false
    this.#firing = true
    return true
  }
}
