/**
 * Sliding windows of match times, per group: at most `maxGroups` groups,
 * the one matched longest ago forgotten first, and at most `threshold`
 * times in each, since a group empties when it reaches it. A frequency
 * alert rule counts in one, in a process's memory.
 */
export class FrequencyWindows {
  readonly #groups = new Map<string, number[]>()

  constructor (private readonly maxGroups: number) {}

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

/** What a flatline watch says when asked: it fires now (with the matches left), it already fired, or when to look again. */
export type FlatlineLook = { fire: number } | { firing: true } | { next: number }

/** A flatline rule's window: how often it expects matches. */
export interface FlatlineWindow { threshold: number, withinMs: number }

/** A frequency rule's window, and how many groups it counts at once. */
export interface FrequencyWindow extends FlatlineWindow { maxGroups: number }

/**
 * A flatline alert rule's watch, in a process's memory: it fires once when
 * fewer than `threshold` matches fall within the window, and resolves when
 * there are enough again. The first window starts when the watch does.
 */
export class FlatlineWatch {
  // The latest `threshold` matches, oldest first: the window holds
  // `threshold` matches exactly when the oldest of them is inside it.
  readonly #latest: number[] = []
  // The alert that fired, once its id is known.
  #fired: number | 'pending' | undefined

  constructor (private readonly startedAt: number) {}

  /** A match at `time`: the id of the alert it resolves, when it ends a flatline. */
  match (time: number, window: FlatlineWindow): number | undefined {
    this.#latest.push(time)
    if (this.#latest.length > window.threshold) this.#latest.shift()
    const fired = this.#fired
    if (typeof fired !== 'number' || this.#count(time, window) < window.threshold) return undefined
    this.#fired = undefined
    return fired
  }

  look (time: number, window: FlatlineWindow): FlatlineLook {
    if (this.#fired !== undefined) return { firing: true }
    const next = (this.#latest.length < window.threshold ? this.startedAt : this.#latest[0] as number) + window.withinMs
    if (time < next) return { next }
    this.#fired = 'pending'
    return { fire: this.#count(time, window) }
  }

  /** The id of the alert that fired: what a resolve names. */
  fired (id: number): void {
    if (this.#fired === 'pending') this.#fired = id
  }

  #count (time: number, window: FlatlineWindow): number {
    return this.#latest.filter((match) => match > time - window.withinMs).length
  }
}

/** Every frequency rule's windows and flatline rule's watch, by rule, in a process's memory. */
export class MemoryWindows {
  readonly #tallies = new Map<string, FrequencyWindows>()
  readonly #watches = new Map<string, FlatlineWatch>()

  tally (rule: string, group: string, time: number, window: FrequencyWindow): number {
    return made(this.#tallies, rule, () => new FrequencyWindows(window.maxGroups)).record(group, time, window.withinMs, window.threshold)
  }

  flatlineMatch (rule: string, time: number, window: FlatlineWindow, startedAt: number): number | undefined {
    return made(this.#watches, rule, () => new FlatlineWatch(startedAt)).match(time, window)
  }

  flatlineLook (rule: string, time: number, window: FlatlineWindow, startedAt: number): FlatlineLook {
    return made(this.#watches, rule, () => new FlatlineWatch(startedAt)).look(time, window)
  }

  flatlineFired (rule: string, id: number): void {
    this.#watches.get(rule)?.fired(id)
  }
}

/** The value at `key`, made on first use. */
function made<T> (map: Map<string, T>, key: string, make: () => T): T {
  let value = map.get(key)
  if (value === undefined) {
    value = make()
    map.set(key, value)
  }
  return value
}
