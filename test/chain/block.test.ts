import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { blockText, GENESIS, hashBlock, nextBlock } from '../../src/chain/block.js'

describe('block', () => {
  it('has naivechain\'s genesis block byte for byte', () => {
    expect(JSON.stringify(GENESIS)).toBe('{"index":0,"previousHash":"0","timestamp":1465154705,"data":"my genesis block!!","hash":"816534932c2b7154836da6afc367695e6337db8a921823784c14378abed4f7d7"}')
    expect(hashBlock(0, '0', 1465154705, 'my genesis block!!')).toBe(GENESIS.hash)
  })

  it('hashes index + previousHash + timestamp + data as UTF-8 SHA-256', () => {
    const expected = createHash('sha256').update('1' + GENESIS.hash + '1700000000000' + 'héllo 🔥', 'utf8').digest('hex')
    expect(hashBlock(1, GENESIS.hash, 1700000000000, 'héllo 🔥')).toBe(expected)
  })

  it('links a new block to the one before, keys in naivechain\'s order', () => {
    const block = nextBlock(GENESIS, 1700000000000, 'hello')
    expect(Object.keys(block)).toEqual(['index', 'previousHash', 'timestamp', 'data', 'hash'])
    expect(block).toMatchObject({ index: 1, previousHash: GENESIS.hash, timestamp: 1700000000000, data: 'hello' })
    expect(block.hash).toBe(hashBlock(1, GENESIS.hash, 1700000000000, 'hello'))
  })

  it('writes a block\'s text exactly as JSON.stringify does, whatever its data', () => {
    expect(blockText(GENESIS)).toBe(JSON.stringify(GENESIS))
    // Quotes, backslashes, control characters, lone surrogates, astral characters.
    const data = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u2028', '\ud800', '\udc00', '🔥', 'é', 'a') }))
    fc.assert(fc.property(data, fc.nat(), fc.integer({ min: 0, max: 2 ** 53 - 1 }), (entry, index, timestamp) => {
      const block = nextBlock({ ...GENESIS, index }, timestamp, entry)
      expect(blockText(block)).toBe(JSON.stringify(block))
    }), { numRuns: 2000 })
  })
})
