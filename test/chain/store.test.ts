import { describe, expect, it } from 'vitest'
import { GENESIS } from '../../src/chain/block.js'
import { ChainStore } from '../../src/chain/store.js'
import { verifyChain } from '../../src/chain/verify.js'

describe('ChainStore', () => {
  it('starts with genesis only', () => {
    const store = new ChainStore()
    expect(store.length).toBe(1)
    expect(store.head).toEqual(GENESIS)
    expect(JSON.parse(store.toJSONText())).toEqual([GENESIS])
  })

  it('appends a batch in order with one timestamp', () => {
    const store = new ChainStore()
    const blocks = store.append(['a', 'b', 'c'], 1_700_000_000_123)
    expect(blocks.map((b) => [b.index, b.data, b.timestamp])).toEqual([
      [1, 'a', 1_700_000_000_123], [2, 'b', 1_700_000_000_123], [3, 'c', 1_700_000_000_123]
    ])
    expect(store.length).toBe(4)
    expect(store.at(2)).toEqual(blocks[1])
    expect(JSON.parse(store.toJSONText())).toEqual([GENESIS, ...blocks])
    expect(verifyChain(store.blocks()).valid).toBe(true)
  })

  it('never lets timestamps go backwards, even when the clock does', () => {
    const store = new ChainStore()
    store.append(['later'], 1_700_000_002_000)
    const [block] = store.append(['earlier'], 1_700_000_001_000)
    expect(block?.timestamp).toBe(1_700_000_002_000)
    expect(verifyChain(store.blocks()).valid).toBe(true)
  })

  it('keeps integer timestamps from a fractional clock', () => {
    const store = new ChainStore()
    const [block] = store.append(['x'], 1_700_000_000_123.9)
    expect(block?.timestamp).toBe(1_700_000_000_123)
  })

  it('burns back to genesis and reports the blocks lost', () => {
    const store = new ChainStore()
    store.append(['a', 'b'], 1)
    expect(store.burn()).toBe(2)
    expect(store.length).toBe(1)
    expect(store.toJSONText()).toBe(JSON.stringify([GENESIS]))
    expect(store.burn()).toBe(0)
  })
})
