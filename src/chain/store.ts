import { GENESIS, nextBlock, type Block } from './block.js'

const GENESIS_JSON = JSON.stringify(GENESIS)
const INITIAL_BYTES = 64 * 1024

/** A stretch of the chain as UTF-8 JSON: the blocks' text joined by commas, without the brackets. */
export interface ChainSlice {
  bytes: Buffer
  count: number
}

/**
 * The in-memory chain, kept as UTF-8 JSON text in one growing buffer: each
 * block's text followed by a comma, encoded once when the block is appended.
 * Any stretch of the chain is then a view of that buffer, written out as it
 * is: no read serialises or copies the chain, and a block costs its bytes
 * plus one offset, not a tree of JavaScript objects. A block object is
 * rebuilt from its text only when one is asked for.
 *
 * The buffer only ever grows at its end, and burning starts a new one, so a
 * read that is still writing an older view is never disturbed.
 */
export class ChainStore {
  #bytes = Buffer.allocUnsafe(INITIAL_BYTES)
  // #ends[i]: where block i's text (and its comma) ends in #bytes.
  #ends: number[] = []
  #head: Block = GENESIS
  #epoch = 0

  constructor () {
    this.#write(GENESIS_JSON)
  }

  get length (): number {
    return this.#ends.length
  }

  get head (): Block {
    return this.#head
  }

  /** How many times the chain has burned: block indexes repeat across epochs. */
  get epoch (): number {
    return this.#epoch
  }

  at (index: number): Block | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#ends.length) return undefined
    const start = index === 0 ? 0 : this.#ends[index - 1] as number
    return JSON.parse(this.#bytes.toString('utf8', start, (this.#ends[index] as number) - 1)) as Block
  }

  /** Every block as an object, genesis first: for verification, not for the hot path. */
  toArray (): Block[] {
    const { bytes } = this.slice(0)
    return JSON.parse(`[${bytes.toString('utf8')}]`) as Block[]
  }

  /** Blocks from `from` (clamped to the chain) to the current head. */
  slice (from = 0): ChainSlice {
    const end = this.#ends.length
    const start = Math.min(Math.max(0, from), end)
    if (start === end) return { bytes: Buffer.alloc(0), count: 0 }
    const first = start === 0 ? 0 : this.#ends[start - 1] as number
    // Without the last block's trailing comma.
    return { bytes: this.#bytes.subarray(first, (this.#ends[end - 1] as number) - 1), count: end - start }
  }

  /**
   * Appends every entry or, if anything throws, none. Timestamps never go
   * backwards, even when the wall clock does. Returns the new blocks, and
   * their JSON text as a slice, ready to be written out.
   */
  append (entries: readonly string[], now: number): { blocks: Block[], slice: ChainSlice } {
    const blocks: Block[] = []
    let previous = this.#head
    const timestamp = Math.max(Math.trunc(now), previous.timestamp)
    for (const data of entries) {
      previous = nextBlock(previous, timestamp, data)
      blocks.push(previous)
    }
    const from = this.#ends.length
    for (const block of blocks) this.#write(JSON.stringify(block))
    this.#head = previous
    return { blocks, slice: this.slice(from) }
  }

  /** Resets to genesis and returns how many blocks were lost. */
  burn (): number {
    const lost = this.#ends.length - 1
    this.#epoch += 1
    this.#bytes = Buffer.allocUnsafe(INITIAL_BYTES)
    this.#ends = []
    this.#head = GENESIS
    this.#write(GENESIS_JSON)
    return lost
  }

  #write (json: string): void {
    const offset = this.#ends.length === 0 ? 0 : this.#ends[this.#ends.length - 1] as number
    // Worst case UTF-8: 3 bytes per UTF-16 unit, plus the comma.
    const needed = offset + json.length * 3 + 1
    if (needed > this.#bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#bytes.length * 2))
      this.#bytes.copy(grown, 0, 0, offset)
      this.#bytes = grown
    }
    const written = this.#bytes.write(json, offset, 'utf8')
    this.#bytes[offset + written] = 0x2c // ','
    this.#ends.push(offset + written + 1)
  }
}
