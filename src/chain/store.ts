import { blockText, GENESIS, nextBlock, type Block } from './block.js'
import { Offsets } from './offsets.js'

/** Genesis as the store writes it, and its size with its comma. */
export const GENESIS_JSON = JSON.stringify(GENESIS)
export const GENESIS_BYTES = Buffer.byteLength(GENESIS_JSON) + 1
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

/**
 * A slice being written out over time. Until it is released, the memory it
 * views is not reused, even once the chain has burned.
 */
export interface ChainRead extends ChainSlice {
  release: () => void
}

/**
 * Blocks hashed onto the head as it was, not yet stored: what they would
 * cost is known before anything changes, so a budget can refuse them.
 */
export interface PreparedAppend {
  readonly blocks: Block[]
  readonly texts: string[]
  /** Each text's UTF-8 size, its comma included. */
  readonly sizes: number[]
  /** All of them: what the store would hold. */
  readonly bytes: number
  /** The chain they were hashed onto: its epoch, and its length then. */
  readonly epoch: number
  readonly length: number
}

/**
 * Hashes entries onto a head (block `length - 1` of chain `epoch`), storing
 * nothing. Timestamps never go backwards, even when the wall clock (or
 * another replica's) does.
 */
export function prepareBlocks (head: Block, epoch: number, length: number, entries: readonly string[], now: number): PreparedAppend {
  const blocks: Block[] = []
  const texts: string[] = []
  const sizes: number[] = []
  let bytes = 0
  let previous = head
  const timestamp = Math.max(Math.trunc(now), previous.timestamp)
  for (const data of entries) {
    previous = nextBlock(previous, timestamp, data)
    const text = blockText(previous)
    const size = Buffer.byteLength(text) + 1
    blocks.push(previous)
    texts.push(text)
    sizes.push(size)
    bytes += size
  }
  return { blocks, texts, sizes, bytes, epoch, length }
}

export interface ChainStoreOptions {
  /**
   * Burnt chains' segments kept for reuse, at most: beyond it they are left
   * to the collector, so a burnt chain never pins more than the budget.
   */
  maxSpareBytes?: number
  /**
   * The first segment's size; each next one doubles, up to a megabyte. Small
   * for created fires, so that ten thousand idle ones do not each hold a
   * megabyte for their genesis; such a store keeps no spares.
   */
  firstSegmentBytes?: number
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
 * when one is asked for.
 *
 * A burnt chain's segments are kept and reused by the next chains, so a
 * chain that burns and grows back all day costs the same memory as one
 * chain, instead of leaving 30 MB of garbage per burn for the collector to
 * find when it gets round to it. A read in flight (`read`) holds its
 * chain's segments back from reuse until it is released.
 */
export class ChainStore {
  #segments: Segment[] = []
  // Block i is #starts[i] .. #ends[i] (its comma included), in bytes counted
  // across segments, each segment counting for its whole size.
  #starts = new Offsets()
  #ends = new Offsets()
  #head: Block = GENESIS
  #epoch = 0
  /** The chain's text in bytes: what GET /logs sends, less the brackets. */
  #bytes = 0
  readonly #maxSpareSegments: number
  readonly #firstSegmentBytes: number
  /** Segments of burnt chains, free for the next blocks. */
  #spare: Buffer[] = []
  /** Reads in flight, by epoch: made at the first read, as a created fire may never be read. */
  #readersMade: Map<number, number> | undefined
  /** A burnt chain's segments, by epoch, while reads of it are in flight. */
  #retiredMade: Map<number, Buffer[]> | undefined
  get #readers (): Map<number, number> { return (this.#readersMade ??= new Map()) }
  get #retired (): Map<number, Buffer[]> { return (this.#retiredMade ??= new Map()) }

  constructor (options: ChainStoreOptions = {}) {
    this.#maxSpareSegments = Math.floor((options.maxSpareBytes ?? Infinity) / SEGMENT_BYTES)
    this.#firstSegmentBytes = Math.min(SEGMENT_BYTES, options.firstSegmentBytes ?? SEGMENT_BYTES)
    this.#startChain()
  }

  /** A chain of genesis alone, in an empty store. */
  #startChain (): void {
    this.#head = GENESIS
    this.#bytes = GENESIS_BYTES
    this.#write([GENESIS_JSON], [GENESIS_BYTES])
  }

  get length (): number {
    return this.#ends.length
  }

  get head (): Block {
    return this.#head
  }

  /** The chain's JSON text in bytes, each block with its comma: what the byte budget counts. */
  get byteLength (): number {
    return this.#bytes
  }

  /** Bytes from block `index` to the head, as stored: how far behind a reader at `index` is. */
  bytesFrom (index: number): number {
    const length = this.#ends.length
    if (index >= length) return 0
    return this.#ends.at(length - 1) - this.#starts.at(Math.max(0, index))
  }

  /** The first block from which at most `bytes` remain to the head. */
  indexWithin (bytes: number): number {
    let low = 0
    let high = this.#ends.length
    while (low < high) {
      const middle = (low + high) >> 1
      if (this.bytesFrom(middle) <= bytes) high = middle
      else low = middle + 1
    }
    return low
  }

  /** Memory held for chains: the current chain's segments and the spare ones. */
  get memoryBytes (): number {
    let bytes = this.#spare.length * SEGMENT_BYTES
    for (const segment of this.#segments) bytes += segment.bytes.length
    return bytes
  }

  /** How many times the chain has burned: block indexes repeat across epochs. */
  get epoch (): number {
    return this.#epoch
  }

  at (index: number): Block | undefined {
    const text = this.textAt(index)
    return text === undefined ? undefined : JSON.parse(text.toString('utf8')) as Block
  }

  /** A block's JSON text, as a view of the store's memory: use it at once, or copy it. */
  textAt (index: number): Buffer | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.#ends.length) return undefined
    // A block never straddles two segments: its text is one view.
    return this.#parts(index, index + 1)[0]
  }

  /** Every block as an object, genesis first: for verification, not for the hot path. */
  toArray (): Block[] {
    return JSON.parse(`[${Buffer.concat(this.slice(0).parts).toString('utf8')}]`) as Block[]
  }

  /** Blocks from `from` (clamped to the chain) up to `to` or the current head. */
  slice (from = 0, to = Infinity): ChainSlice {
    const end = Math.min(this.#ends.length, to)
    const start = Math.min(Math.max(0, from), end)
    const parts = this.#parts(start, end)
    return { parts, byteLength: parts.reduce((sum, part) => sum + part.length, 0), count: end - start }
  }

  /**
   * Blocks from `from` on, held for a read that takes more than one turn of
   * the event loop: call `release` when the last byte is out (or the read is
   * abandoned). `slice` is only for views used at once.
   */
  read (from = 0): ChainRead {
    const epoch = this.#epoch
    this.#readers.set(epoch, (this.#readers.get(epoch) ?? 0) + 1)
    let released = false
    return {
      ...this.slice(from),
      release: () => {
        if (released) return
        released = true
        this.#release(epoch)
      }
    }
  }

  #release (epoch: number): void {
    const left = (this.#readers.get(epoch) ?? 1) - 1
    if (left > 0) {
      this.#readers.set(epoch, left)
      return
    }
    this.#readers.delete(epoch)
    const retired = this.#retired.get(epoch)
    this.#retired.delete(epoch)
    if (retired !== undefined) this.#recycle(retired)
  }

  #recycle (buffers: Buffer[]): void {
    // Oversized segments (a block bigger than a segment) are left to the
    // collector, and so is whatever would take the live and spare segments
    // together past the spare budget: a chain a reader held through its burn,
    // released once the next chain has grown, must not double what is kept.
    for (const bytes of buffers) {
      if (this.#spare.length + this.#segments.length >= this.#maxSpareSegments) return
      if (bytes.length === SEGMENT_BYTES) this.#spare.push(bytes)
    }
  }

  /** Hashes entries onto the current head without storing them. */
  prepare (entries: readonly string[], now: number): PreparedAppend {
    return prepareBlocks(this.#head, this.#epoch, this.#ends.length, entries, now)
  }

  /**
   * Stores prepared blocks, which must have been prepared on the current
   * head. Returns them, and their JSON text as a slice ready to be written out.
   */
  commit (prepared: PreparedAppend): { blocks: Block[], slice: ChainSlice } {
    if (prepared.epoch !== this.#epoch || prepared.length !== this.#ends.length) {
      throw new Error('the chain moved since these blocks were prepared')
    }
    const from = this.#ends.length
    this.#write(prepared.texts, prepared.sizes)
    this.#bytes += prepared.bytes
    this.#head = prepared.blocks.at(-1) ?? this.#head
    return { blocks: prepared.blocks, slice: this.slice(from) }
  }

  /** Appends every entry or, if anything throws, none. */
  append (entries: readonly string[], now: number): { blocks: Block[], slice: ChainSlice } {
    return this.commit(this.prepare(entries, now))
  }

  /**
   * Stores blocks another replica hashed: their JSON text, in order, the
   * first following the current head. Returns false, storing nothing, when
   * they do not follow it.
   */
  follow (texts: readonly string[]): boolean {
    if (texts.length === 0) return true
    const first = JSON.parse(texts[0] as string) as Block
    if (first.index !== this.#ends.length || first.previousHash !== this.#head.hash) return false
    const sizes = texts.map((text) => Buffer.byteLength(text) + 1)
    this.#write(texts, sizes)
    for (const size of sizes) this.#bytes += size
    this.#head = texts.length === 1 ? first : JSON.parse(texts[texts.length - 1] as string) as Block
    return true
  }

  /** Burns to a chain of genesis alone in a given epoch: a replica catching up with one that burned. */
  burnTo (epoch: number): number {
    const burned = this.burn()
    this.#epoch = epoch
    return burned
  }

  /** Resets to genesis and returns how many blocks were lost. */
  burn (): number {
    const lost = this.#ends.length - 1
    const buffers = this.#segments.map((segment) => segment.bytes)
    this.#segments = []
    if (this.#readersMade?.has(this.#epoch) === true) {
      this.#retired.set(this.#epoch, buffers)
      // A reader that never finishes must not pin memory for ever: only the
      // last two burnt chains wait for their readers, older ones are left to
      // the collector.
      const oldest = this.#retired.keys().next().value
      if (this.#retired.size > 2 && oldest !== undefined) this.#retired.delete(oldest)
    } else {
      this.#recycle(buffers)
    }
    this.#epoch += 1
    this.#starts.clear()
    this.#ends.clear()
    this.#startChain()
    return lost
  }

  /** Views of blocks start..end-1, without the last block's comma. */
  #parts (start: number, end: number): Buffer[] {
    if (start >= end) return []
    const from = this.#starts.at(start)
    const to = this.#ends.at(end - 1) - 1
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

  /**
   * Writes blocks' JSON text, each followed by a comma, at the end of the
   * last segment. Sizes are exact (comma included), so long lines fill
   * segments to the brim and the budget counts real memory.
   */
  #write (texts: readonly string[], sizes: readonly number[]): void {
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i] as string
      const needed = sizes[i] as number
      let segment = this.#segments[this.#segments.length - 1]
      if (segment === undefined || segment.used + needed > segment.bytes.length) {
        // A block never straddles two segments; one bigger than a segment gets its own.
        const base = segment === undefined ? 0 : segment.base + segment.bytes.length
        const spare = needed <= SEGMENT_BYTES ? this.#spare.pop() : undefined
        // Never from Buffer's shared pool: a small segment there would pin a whole slab for as long as its chain lives.
        const size = Math.min(SEGMENT_BYTES, Math.max(this.#firstSegmentBytes, base))
        segment = { bytes: spare ?? Buffer.allocUnsafeSlow(Math.max(size, needed)), used: 0, base }
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
