import { GENESIS, nextBlock, type Block } from './block.js'

const GENESIS_JSON = JSON.stringify(GENESIS)

/** A stretch of the chain as JSON text, ready to be written out. */
export interface ChainSlice {
  /** Each block's JSON text; read only from `start` to `end`. */
  pieces: readonly string[]
  start: number
  end: number
  /** UTF-8 length of the slice written as a JSON array. */
  byteLength: number
}

/**
 * The in-memory chain, kept as each block's JSON text, encoded once when the
 * block is appended. That is what reads write out, so no read serialises the
 * chain again, and it is all that is kept: a block object is rebuilt from
 * its text only when one is asked for. Burning replaces the arrays instead of
 * clearing them, so a read that is still writing an old slice is unaffected.
 */
export class ChainStore {
  #json: string[] = [GENESIS_JSON]
  // #bytesBefore[i]: UTF-8 bytes of blocks 0..i-1, so any slice's length is one subtraction.
  #bytesBefore: number[] = [0, Buffer.byteLength(GENESIS_JSON)]
  #head: Block = GENESIS
  #epoch = 0

  get length (): number {
    return this.#json.length
  }

  get head (): Block {
    return this.#head
  }

  /** How many times the chain has burned: block indexes repeat across epochs. */
  get epoch (): number {
    return this.#epoch
  }

  at (index: number): Block | undefined {
    const json = this.#json[index]
    return json === undefined ? undefined : JSON.parse(json) as Block
  }

  /** Every block as an object, genesis first: for verification, not for the hot path. */
  toArray (): Block[] {
    return this.#json.map((json) => JSON.parse(json) as Block)
  }

  /** Blocks from `from` (clamped to the chain) to the current head. */
  slice (from = 0): ChainSlice {
    const end = this.#json.length
    const start = Math.min(Math.max(0, from), end)
    const count = end - start
    const bytes = (this.#bytesBefore[end] as number) - (this.#bytesBefore[start] as number)
    return { pieces: this.#json, start, end, byteLength: 2 + bytes + Math.max(0, count - 1) }
  }

  /**
   * Appends every entry or, if anything throws, none. Timestamps never go
   * backwards, even when the wall clock does. Returns the new blocks and
   * their JSON text.
   */
  append (entries: readonly string[], now: number): { blocks: Block[], json: string[] } {
    const blocks: Block[] = []
    const json: string[] = []
    let previous = this.#head
    const timestamp = Math.max(Math.trunc(now), previous.timestamp)
    for (const data of entries) {
      previous = nextBlock(previous, timestamp, data)
      blocks.push(previous)
      json.push(JSON.stringify(previous))
    }
    let bytes = this.#bytesBefore[this.#bytesBefore.length - 1] as number
    for (const text of json) {
      this.#json.push(text)
      bytes += Buffer.byteLength(text)
      this.#bytesBefore.push(bytes)
    }
    this.#head = previous
    return { blocks, json }
  }

  /** Resets to genesis and returns how many blocks were lost. */
  burn (): number {
    const lost = this.#json.length - 1
    this.#epoch += 1
    this.#json = [GENESIS_JSON]
    this.#bytesBefore = [0, Buffer.byteLength(GENESIS_JSON)]
    this.#head = GENESIS
    return lost
  }
}
