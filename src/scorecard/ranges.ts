/**
 * A set of whole numbers kept as sorted, disjoint, non-adjacent ranges: a
 * run of ten million numbers in order is one range, so memory grows with the
 * gaps, never with the count. Past `maxRanges` the set stops taking new
 * islands (and says so) rather than grow without bound.
 */
export class RangeSet {
  // Flat pairs [start0, end0, start1, end1, ...], both ends included.
  readonly #bounds: number[] = []
  readonly #maxRanges: number
  #size = 0
  #overflowed = false

  constructor (maxRanges = 10_000) {
    this.#maxRanges = maxRanges
  }

  /** How many numbers the set holds. */
  get size (): number {
    return this.#size
  }

  get ranges (): number {
    return this.#bounds.length / 2
  }

  /** Whether numbers were turned away because the range cap was reached. */
  get overflowed (): boolean {
    return this.#overflowed
  }

  /** The highest number held; -1 when empty. */
  get max (): number {
    return this.#bounds.length === 0 ? -1 : this.#bounds[this.#bounds.length - 1] as number
  }

  /** The lowest number held; -1 when empty. */
  get min (): number {
    return this.#bounds.length === 0 ? -1 : this.#bounds[0] as number
  }

  has (value: number): boolean {
    const i = this.#rangeAtOrBefore(value)
    return i >= 0 && value <= (this.#bounds[2 * i + 1] as number)
  }

  /**
   * Adds `value`; false when it was already there. A value that would start
   * a new range past the cap is not added (and not reported as a duplicate).
   */
  add (value: number): boolean {
    const bounds = this.#bounds
    const i = this.#rangeAtOrBefore(value)
    if (i >= 0 && value <= (bounds[2 * i + 1] as number)) return false
    const joinsBefore = i >= 0 && bounds[2 * i + 1] === value - 1
    const joinsAfter = 2 * (i + 1) < bounds.length && bounds[2 * (i + 1)] === value + 1
    if (joinsBefore && joinsAfter) {
      // The two ranges become one.
      bounds.splice(2 * i + 1, 2)
    } else if (joinsBefore) {
      bounds[2 * i + 1] = value
    } else if (joinsAfter) {
      bounds[2 * (i + 1)] = value
    } else {
      if (this.ranges >= this.#maxRanges) {
        this.#overflowed = true
        return true
      }
      bounds.splice(2 * (i + 1), 0, value, value)
    }
    this.#size += 1
    return true
  }

  /** The index of the last range starting at or before `value`; -1 when none does. */
  #rangeAtOrBefore (value: number): number {
    const bounds = this.#bounds
    let low = 0
    let high = bounds.length / 2 - 1
    // In order is the common case: the last range, at once.
    if (high >= 0 && (bounds[2 * high] as number) <= value) return high
    let found = -1
    while (low <= high) {
      const middle = (low + high) >> 1
      if ((bounds[2 * middle] as number) <= value) {
        found = middle
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    return found
  }
}
