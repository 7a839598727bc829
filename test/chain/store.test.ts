import { text } from 'node:stream/consumers'
import { describe, expect, it } from 'vitest'
import { GENESIS } from '../../src/chain/block.js'
import { chainJsonStream } from '../../src/chain/json-stream.js'
import { ChainStore } from '../../src/chain/store.js'
import { verifyChain } from '../../src/chain/verify.js'

const written = (store: ChainStore, from?: number) => text(chainJsonStream(store.slice(from)))

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
    const { blocks, json } = store.append(['a', 'b', 'c'], 1_700_000_000_123)
    expect(blocks.map((b) => [b.index, b.data, b.timestamp])).toEqual([
      [1, 'a', 1_700_000_000_123], [2, 'b', 1_700_000_000_123], [3, 'c', 1_700_000_000_123]
    ])
    expect(json).toEqual(blocks.map((block) => JSON.stringify(block)))
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

describe('ChainStore.slice and chainJsonStream', () => {
  it('writes exactly JSON.stringify of the blocks, with the UTF-8 length announced', async () => {
    const store = new ChainStore()
    store.append(['ascii', 'héllo wörld', '🔥 on fire', '"quoted" \\ back\nslash'], 1_700_000_000_000)
    for (const from of [undefined, 0, 1, 3, 4, 5, 99]) {
      const expected = JSON.stringify(store.toArray().slice(from ?? 0))
      expect(await written(store, from)).toBe(expected)
      expect(store.slice(from).byteLength).toBe(Buffer.byteLength(expected))
    }
  })

  it('writes a big chain in bounded chunks', async () => {
    const store = new ChainStore()
    store.append(Array.from({ length: 5000 }, (_, i) => `line ${i} `.padEnd(80, 'x')), 1_700_000_000_000)
    const chunks: number[] = []
    for await (const chunk of chainJsonStream(store.slice())) chunks.push(chunk.length)
    expect(chunks.length).toBeGreaterThan(10)
    expect(Math.max(...chunks)).toBeLessThan(80 * 1024)
  })

  it('keeps writing the old chain when it burns mid-read', async () => {
    const store = new ChainStore()
    store.append(['a', 'b'], 1_700_000_000_000)
    const before = JSON.stringify(store.toArray())
    const stream = chainJsonStream(store.slice())
    store.burn()
    store.append(['c'], 1_700_000_000_001)
    expect(await text(stream)).toBe(before)
  })
})
