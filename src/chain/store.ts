import { GENESIS, nextBlock, type Block } from './block.js'

const GENESIS_JSON = JSON.stringify(GENESIS)
// Blocks are written into segments of this size, each allocated once and
// never copied: the chain's memory is its bytes, without the garbage of a
// buffer that doubles.
const SEGMENT_BYTES = 1024 * 1024

/**
 * A stretch of the chain as UTF-8 JSON: the blocks' text joined by commas,
 * without the brackets, as views of the store's own memory.
 */
export interface ChainSlice {
  parts: Buffer[]
  byteLength: number
  count: number
}

interface Segment {
  bytes: Buffer
  used: number
  /** Where this segment starts, in bytes counted across all segments. */
  base: number
}

/**
 * The in-memory chain, kept as UTF-8 JSON text: each block's text followed by
 * a comma, encoded once when the block is appended, in segments of memory
 * that are only ever written at their end. Any stretch of the chain is then
 * a few views of those segments, written out as they are: no read serialises
 * or copies the chain, and a block costs its bytes plus one offset, not a
 * tree of JavaScript objects. A block object is rebuilt from its text only
 * when one is asked for. Burning starts new segments, so a read that is still
 * writing an older view is never disturbed.
 */
export class ChainStore {
  #segments: Segment[] = []
  // Block i is #starts[i] .. #ends[i] (its comma included), in bytes counted
  // across segments, each segment counting for its whole size.
  #starts: number[] = []
  #ends: number[] = []
  #head: Block = GENESIS
  #epoch = 0

  constructor () {
    this.#write([GENESIS_JSON])
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
    return JSON.parse(Buffer.concat(this.#parts(index, index + 1)).toString('utf8')) as Block
  }

  /** Every block as an object, genesis first: for verification, not for the hot path. */
  toArray (): Block[] {
    return JSON.parse(`[${Buffer.concat(this.slice(0).parts).toString('utf8')}]`) as Block[]
  }

  /** Blocks from `from` (clamped to the chain) to the current head. */
  slice (from = 0): ChainSlice {
    const end = this.#ends.length
    const start = Math.min(Math.max(0, from), end)
    const parts = this.#parts(start, end)
    return { parts, byteLength: parts.reduce((sum, part) => sum + part.length, 0), count: end - start }
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
    this.#write(blocks.map((block) => JSON.stringify(block)))
    this.#head = previous
    return { blocks, slice: this.slice(from) }
  }

  /** Resets to genesis and returns how many blocks were lost. */
  burn (): number {
    const lost = this.#ends.length - 1
    this.#epoch += 1
    this.#segments = []
    this.#starts = []
    this.#ends = []
    this.#head = GENESIS
    this.#write([GENESIS_JSON])
    return lost
  }

  /** Views of blocks start..end-1, without the last block's comma. */
  #parts (start: number, end: number): Buffer[] {
    if (start >= end) return []
    const from = this.#starts[start] as number
    const to = (this.#ends[end - 1] as number) - 1
    const parts: Buffer[] = []
    for (let s = this.#segmentAt(from); s < this.#segments.length; s++) {
      const { bytes, used, base } = this.#segments[s] as Segment
      if (base >= to) break
      const part = bytes.subarray(Math.max(from - base, 0), Math.min(to - base, used))
      if (part.length > 0) parts.push(part)
    }
    return parts
  }

  /** The segment holding a byte offset: a binary search over a few dozen segments. */
  #segmentAt (offset: number): number {
    let low = 0
    let high = this.#segments.length - 1
    while (low < high) {
      const middle = (low + high + 1) >> 1
      if ((this.#segments[middle] as Segment).base <= offset) low = middle
      else high = middle - 1
    }
    return low
  }

  /** Writes blocks' JSON text, each followed by a comma, at the end of the last segment. */
  #write (texts: readonly string[]): void {
    for (const text of texts) {
      // Worst case UTF-8: 3 bytes per UTF-16 unit, plus the comma.
      const needed = text.length * 3 + 1
      let segment = this.#segments[this.#segments.length - 1]
      if (segment === undefined || segment.used + needed > segment.bytes.length) {
        // A block never straddles two segments; one bigger than a segment gets its own.
        const base = segment === undefined ? 0 : segment.base + segment.bytes.length
        segment = { bytes: Buffer.allocUnsafe(Math.max(SEGMENT_BYTES, needed)), used: 0, base }
        this.#segments.push(segment)
      }
      // One write per block: joining a batch first is slower, since V8 then
      // copies every piece twice.
      const written = segment.bytes.write(text, segment.used, 'utf8')
      segment.bytes[segment.used + written] = 0x2c // ','
      this.#starts.push(segment.base + segment.used)
      segment.used += written + 1
      this.#ends.push(segment.base + segment.used)
    }
  }
}
