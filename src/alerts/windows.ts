import type { RuleWindow } from './rule.js'

/**
 * A frequency rule's recent matches, per group: at most `threshold` times
 * each, and at most `maxGroups` groups, the one matched longest ago
 * forgotten first.
 */
export class FrequencyWindows {
  readonly #groups = new Map<string, number[]>()

  constructor (private readonly window: RuleWindow) {}

  get groups (): number { return this.#groups.size }

  /** A match at `now`: true when it makes `threshold` within the window. The group then counts from zero. */
  record (group: string, now: number): boolean {
    const { threshold, withinMs, maxGroups } = this.window
    let times = this.#groups.get(group)
    if (times === undefined) {
      if (this.#groups.size >= maxGroups) this.#groups.delete(this.#groups.keys().next().value as string)
      times = []
    } else {
      // Moved to the end: the map's order is the order groups last matched.
      this.#groups.delete(group)
    }
    times.push(now)
    while ((times[0] as number) <= now - withinMs) times.shift()
    if (times.length >= threshold) return true
    this.#groups.set(group, times)
    return false
  }
}

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
