/**
 * Sliding windows of match times, per group: at most `maxGroups` groups,
 * the one matched longest ago forgotten first, and at most `threshold`
 * times in each, since a group empties when it reaches it. A frequency
 * alert rule counts in one, in a process's memory.
 */
export class FrequencyWindows {
  readonly #groups = new Map<string, number[]>()

  constructor (private readonly maxGroups: number) {}

  get groups (): number { return this.#groups.size }

  /** A match at `time`: the matches within `withinMs` now. At `threshold` the group starts again from zero. */
  record (group: string, time: number, withinMs: number, threshold: number): number {
    let times = this.#groups.get(group)
    if (times === undefined) {
      if (this.#groups.size >= this.maxGroups) this.#groups.delete(this.#groups.keys().next().value as string)
      times = []
    } else {
      // Moved to the end: the map's order is the order groups last matched.
      this.#groups.delete(group)
    }
    times.push(time)
    while ((times[0] as number) <= time - withinMs) times.shift()
    if (times.length < threshold) this.#groups.set(group, times)
    return times.length
  }
}
