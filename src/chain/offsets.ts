/**
 * A growing list of byte offsets, in a typed array: the garbage collector
 * never walks it, and clearing it keeps its memory for the next chain.
 * Doubles hold every offset exactly up to 2^53 bytes.
 */
export class Offsets {
  // Small at first, for the many chains that stay short: it doubles as it fills.
  #values = new Float64Array(16)
  #length = 0

  get length (): number {
    return this.#length
  }

  at (index: number): number {
    return this.#values[index] as number
  }

  push (offset: number): void {
    if (this.#length === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2)
      grown.set(this.#values)
      this.#values = grown
    }
    this.#values[this.#length++] = offset
  }

  clear (): void {
    this.#length = 0
  }
}
