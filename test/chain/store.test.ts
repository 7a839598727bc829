import { Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { GENESIS } from '../../src/chain/block.js'
import { chainJson, jsonArrayLength } from '../../src/chain/json-stream.js'
import { ChainStore } from '../../src/chain/store.js'
import { verifyChain } from '../../src/chain/verify.js'

async function written (store: ChainStore, from?: number): Promise<string> {
  const json = chainJson(store.read(from))
  return Buffer.isBuffer(json) ? json.toString('utf8') : text(json)
}

describe('ChainStore', () => {
  it('starts with genesis only', async () => {
    const store = new ChainStore()
    expect(store.length).toBe(1)
    expect(store.head).toEqual(GENESIS)
    expect(store.toArray()).toEqual([GENESIS])
    expect(await written(store)).toBe(JSON.stringify([GENESIS]))
  })

  it('appends a batch in order with one timestamp, returning the blocks and their JSON', () => {
    const store = new ChainStore()
    const { blocks, slice } = store.append(['a', 'b', 'c'], 1_700_000_000_123)
    expect(blocks.map((b) => [b.index, b.data, b.timestamp])).toEqual([
      [1, 'a', 1_700_000_000_123], [2, 'b', 1_700_000_000_123], [3, 'c', 1_700_000_000_123]
    ])
    expect(slice.count).toBe(3)
    expect(`[${Buffer.concat(slice.parts).toString()}]`).toBe(JSON.stringify(blocks))
    expect(store.length).toBe(4)
    expect(store.head).toEqual(blocks[2])
    expect(store.at(2)).toEqual(blocks[1])
    expect(store.at(4)).toBeUndefined()
    expect(store.toArray()).toEqual([GENESIS, ...blocks])
    expect(verifyChain(store.toArray()).valid).toBe(true)
  })

  it('never lets timestamps go backwards, even when the clock does', () => {
    const store = new ChainStore()
    store.append(['later'], 1_700_000_002_000)
    const [block] = store.append(['earlier'], 1_700_000_001_000).blocks
    expect(block?.timestamp).toBe(1_700_000_002_000)
    expect(verifyChain(store.toArray()).valid).toBe(true)
  })

  it('keeps integer timestamps from a fractional clock', () => {
    const store = new ChainStore()
    const [block] = store.append(['x'], 1_700_000_000_123.9).blocks
    expect(block?.timestamp).toBe(1_700_000_000_123)
  })

  it('burns back to genesis, reports the blocks lost and counts the epoch', async () => {
    const store = new ChainStore()
    store.append(['a', 'b'], 1)
    expect(store.epoch).toBe(0)
    expect(store.burn()).toBe(2)
    expect(store.epoch).toBe(1)
    expect(store.length).toBe(1)
    expect(store.head).toEqual(GENESIS)
    expect(await written(store)).toBe(JSON.stringify([GENESIS]))
    expect(store.burn()).toBe(0)
  })
})

describe('ChainStore.slice and chainJson', () => {
  it('writes exactly JSON.stringify of the blocks, with the UTF-8 length announced', async () => {
    const store = new ChainStore()
    store.append(['ascii', 'héllo wörld', '🔥 on fire', '"quoted" \\ back\nslash', ''], 1_700_000_000_000)
    for (const from of [undefined, 0, 1, 3, 5, 6, 99]) {
      const expected = JSON.stringify(store.toArray().slice(from ?? 0))
      expect(await written(store, from)).toBe(expected)
      expect(jsonArrayLength(store.slice(from))).toBe(Buffer.byteLength(expected))
    }
  })

  it('keeps a block bigger than a segment whole', () => {
    const store = new ChainStore()
    const huge = '\u0001'.repeat(300_000) // escaped as \\u0001: 1.8 MB of JSON
    store.append(['before'], 1)
    store.append([huge], 1)
    store.append(['after'], 1)
    expect(store.at(2)?.data).toBe(huge)
    expect(store.toArray().map((b) => b.data)).toEqual(['my genesis block!!', 'before', huge, 'after'])
    expect(jsonArrayLength(store.slice(1))).toBe(Buffer.byteLength(JSON.stringify(store.toArray().slice(1))))
  })

  it('keeps every block readable as the chain spans many segments', () => {
    const store = new ChainStore()
    const lines = Array.from({ length: 12000 }, (_, i) => `line ${i} ${'é'.repeat(i % 50)}`)
    for (let i = 0; i < lines.length; i += 100) store.append(lines.slice(i, i + 100), 1_700_000_000_000)
    expect(store.length).toBe(12001)
    expect(store.at(1)?.data).toBe(lines[0])
    expect(store.at(12000)?.data).toBe(lines[11999])
    expect(store.at(12001)).toBeUndefined()
    for (const from of [0, 1, 2345, 6000, 11999, 12000, 12001]) {
      expect(JSON.parse(`[${Buffer.concat(store.slice(from).parts).toString()}]`)).toEqual(store.toArray().slice(from))
    }
    expect(store.at(-1)).toBeUndefined()
    expect(store.toArray().map((b) => b.data).slice(1)).toEqual(lines)
  })

  it('writes a big chain in bounded chunks, as views of the store, not copies', async () => {
    const store = new ChainStore()
    const line = 'x'.repeat(300)
    for (let i = 0; i < 10; i++) store.append(Array.from({ length: 1000 }, () => line), 1_700_000_000_000)
    const json = chainJson(store.read())
    expect(json).toBeInstanceOf(Readable)
    const chunks: Buffer[] = []
    for await (const chunk of json as Readable) chunks.push(chunk)
    expect(chunks.length).toBeGreaterThan(40)
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThanOrEqual(64 * 1024 + 2) // "[" or "]" may ride along
    expect(Buffer.concat(chunks).toString()).toBe(JSON.stringify(store.toArray()))
  })

  it('keeps writing the old chain when it burns or grows mid-read', async () => {
    const store = new ChainStore()
    const line = 'y'.repeat(500)
    store.append(Array.from({ length: 3000 }, () => line), 1_700_000_000_000)
    const before = JSON.stringify(store.toArray())
    const reading = chainJson(store.read()) as Readable
    store.append(Array.from({ length: 5000 }, () => 'more'), 1_700_000_000_001)
    store.burn()
    store.append(['c'], 1_700_000_000_002)
    expect(await text(reading)).toBe(before)
  })

  describe('memory of burnt chains', () => {
    const line = 'z'.repeat(400)
    /** The memory a read of the whole chain views. */
    const memoryOf = (store: ChainStore): Set<ArrayBufferLike> => {
      const read = store.read()
      const memory = new Set(read.parts.map((part) => part.buffer))
      read.release()
      return memory
    }
    const shares = (a: Set<ArrayBufferLike>, b: Set<ArrayBufferLike>) => [...a].some((memory) => b.has(memory))
    const fill = (store: ChainStore, batches = 5) => { for (let i = 0; i < batches; i++) store.append(Array.from({ length: 1000 }, () => line), 1) }

    it('reuses a burnt chain\'s segments for the next chain', () => {
      const store = new ChainStore()
      fill(store)
      const before = memoryOf(store)
      store.burn()
      fill(store)
      const after = memoryOf(store)
      expect([...after].every((memory) => before.has(memory))).toBe(true)
      expect(verifyChain(store.toArray()).valid).toBe(true)
    })

    it('reuses them only once the reads in flight are released', async () => {
      const store = new ChainStore()
      fill(store)
      const memory = memoryOf(store)
      const expected = JSON.stringify(store.toArray())
      const reading = chainJson(store.read()) as Readable
      store.burn()
      fill(store)
      expect(shares(memoryOf(store), memory)).toBe(false)
      expect(await text(reading)).toBe(expected)

      // Both burnt chains are spare now: a chain twice as long uses them all.
      store.burn()
      fill(store, 10)
      expect(shares(memoryOf(store), memory)).toBe(true)
    })

    it('never reuses what an unreleased read views, and stops waiting for it after two more burns', () => {
      const store = new ChainStore()
      fill(store)
      const read = store.read()
      const pinned = new Set(read.parts.map((part) => part.buffer))
      for (let burn = 0; burn < 4; burn++) {
        store.burn()
        fill(store)
        expect(shares(memoryOf(store), pinned)).toBe(false)
      }
      read.release()
      store.burn()
      fill(store)
      expect(shares(memoryOf(store), pinned)).toBe(false)
    })
  })

  describe('bytes', () => {
    const MiB = 1024 * 1024
    const long = 'L'.repeat(60_000)

    it('counts the chain\'s JSON text, block by block, and resets on a burn', () => {
      const store = new ChainStore()
      store.append(['ascii', 'héllo wörld', '🔥', '"\u0001"'], 1_700_000_000_000)
      // Every block's text and its comma: the JSON array less its brackets, plus one.
      expect(store.byteLength).toBe(Buffer.byteLength(JSON.stringify(store.toArray())) - 1)
      store.burn()
      expect(store.byteLength).toBe(Buffer.byteLength(JSON.stringify([GENESIS])) - 1)
    })

    it('prepares blocks without storing them, and refuses to commit them once the chain has moved', () => {
      const store = new ChainStore()
      const prepared = store.prepare(['a', 'b'], 1)
      expect(store.length).toBe(1)
      expect(prepared.bytes).toBe(prepared.texts.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0))
      store.append(['c'], 1)
      expect(() => store.commit(prepared)).toThrow(/moved/)
      const again = store.prepare(['a', 'b'], 1)
      store.commit(again)
      expect(store.toArray().map((block) => block.data)).toEqual(['my genesis block!!', 'c', 'a', 'b'])
      expect(verifyChain(store.toArray()).valid).toBe(true)
    })

    it('fills segments with long lines, so the memory it holds is close to the bytes it counts', () => {
      const store = new ChainStore()
      for (let i = 0; i < 10; i++) store.append(Array.from({ length: 16 }, () => long), 1)
      expect(store.byteLength).toBeGreaterThan(9 * MiB)
      // One 60 KB block's worth of tail per 1 MiB segment at most, plus the last segment.
      expect(store.memoryBytes).toBeLessThanOrEqual(store.byteLength * 1.07 + MiB)
    })

    it('keeps burnt chains\' segments for reuse only up to its spare budget', () => {
      const store = new ChainStore({ maxSpareBytes: 3 * MiB })
      for (let i = 0; i < 10; i++) store.append(Array.from({ length: 16 }, () => long), 1)
      expect(store.memoryBytes).toBeGreaterThan(9 * MiB)
      store.burn()
      expect(store.memoryBytes).toBeLessThanOrEqual(4 * MiB)
    })

    it('never holds more than its spare budget in live and spare segments, even when a read held a chain through its burn', async () => {
      const store = new ChainStore({ maxSpareBytes: 4 * MiB })
      const fill = () => { for (let i = 0; i < 4; i++) store.append(Array.from({ length: 16 }, () => long), 1) }
      fill()
      const read = store.read()
      store.burn()
      fill() // the next chain cannot reuse what the read holds: new segments
      read.release() // the held chain comes back, with nowhere to go but the collector
      expect(store.memoryBytes).toBeLessThanOrEqual(5 * MiB)
    })

    it('tells how far behind the head a reader is, and where the last N bytes begin', () => {
      const store = new ChainStore()
      store.append(['a', 'b', 'c'], 1)
      const blockBytes = (index: number) => Buffer.byteLength(JSON.stringify(store.at(index))) + 1
      expect(store.bytesFrom(4)).toBe(0)
      expect(store.bytesFrom(3)).toBe(blockBytes(3))
      expect(store.bytesFrom(1)).toBe(blockBytes(1) + blockBytes(2) + blockBytes(3))
      expect(store.indexWithin(0)).toBe(4)
      expect(store.indexWithin(blockBytes(3))).toBe(3)
      expect(store.indexWithin(blockBytes(3) + 1)).toBe(3)
      expect(store.indexWithin(Infinity)).toBe(0)
    })
  })
})
