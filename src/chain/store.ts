import { GENESIS, nextBlock, type Block } from './block.js'

/**
 * The in-memory chain. Blocks are kept beside their JSON text, encoded once at
 * append time, so reading the whole chain never re-serialises it.
 */
export class ChainStore {
  #blocks: Block[] = [GENESIS]
  #json: string[] = [JSON.stringify(GENESIS)]
  #epoch = 0

  /** How many times the chain has burned: block indexes repeat across epochs. */
  get epoch (): number {
    return this.#epoch
  }

  get length (): number {
    return this.#blocks.length
  }

  get head (): Block {
    return this.#blocks[this.#blocks.length - 1] as Block
  }

  at (index: number): Block | undefined {
    return this.#blocks[index]
  }

  blocks (): readonly Block[] {
    return this.#blocks
  }

  /** The whole chain as a JSON array, genesis first. */
  toJSONText (): string {
    return '[' + this.#json.join(',') + ']'
  }

  /**
   * Appends every entry or, if anything throws, none. Timestamps never go
   * backwards, even when the wall clock does.
   */
  append (entries: readonly string[], now: number): Block[] {
    const appended: Block[] = []
    let previous = this.head
    const timestamp = Math.max(Math.trunc(now), previous.timestamp)
    for (const data of entries) {
      previous = nextBlock(previous, timestamp, data)
      appended.push(previous)
    }
    for (const block of appended) {
      this.#blocks.push(block)
      this.#json.push(JSON.stringify(block))
    }
    return appended
  }

  /** Resets to genesis and returns how many blocks were lost. */
  burn (): number {
    const lost = this.#blocks.length - 1
    this.#epoch += 1
    this.#blocks = [GENESIS]
    this.#json = [JSON.stringify(GENESIS)]
    return lost
  }
}
