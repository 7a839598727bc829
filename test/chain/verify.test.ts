import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { GENESIS, type Block } from '../../src/chain/block.js'
import { ChainStore } from '../../src/chain/store.js'
import { verifyChain } from '../../src/chain/verify.js'

function chainOf (...entries: string[]): Block[] {
  const store = new ChainStore()
  store.append(entries, 1_700_000_000_000)
  return store.toArray()
}

describe('verifyChain', () => {
  it('accepts genesis alone and reports length and head', () => {
    expect(verifyChain([GENESIS])).toEqual({ valid: true, length: 1, head: GENESIS.hash })
  })

  it('rejects an empty chain', () => {
    expect(verifyChain([])).toMatchObject({ valid: false, index: 0 })
  })

  it('rejects a genesis block that is not naivechain\'s', () => {
    expect(verifyChain([{ ...GENESIS, data: 'my other genesis' }])).toMatchObject({ valid: false, index: 0, reason: expect.stringContaining('data') })
  })

  it.each([
    ['index gap', (b: Block[]) => { b[2]!.index = 5 }, 2, /index/],
    ['broken link', (b: Block[]) => { b[2]!.previousHash = '0'.repeat(64) }, 2, /previousHash/],
    ['edited data', (b: Block[]) => { b[1]!.data = 'edited' }, 1, /hash/],
    ['timestamp going back', (b: Block[]) => { b[2]!.timestamp = 1 }, 2, /timestamp/],
    ['data not a string', (b: Block[]) => { (b[1] as any).data = 42 }, 1, /data/],
    ['timestamp not an integer', (b: Block[]) => { (b[1] as any).timestamp = 1.5 }, 1, /timestamp/],
    ['hash not hex', (b: Block[]) => { b[3]!.hash = 'X'.repeat(64) }, 3, /hash/]
  ])('finds %s at the block that breaks', (_name, tamper, index, reason) => {
    const blocks = chainOf('a', 'b', 'c')
    tamper(blocks)
    const result = verifyChain(blocks)
    expect(result).toMatchObject({ valid: false, index })
    expect(result.valid === false && result.reason).toMatch(reason)
  })

  it('accepts what naivechain\'s own rules accept: index + 1, hash link, recomputed hash', () => {
    const blocks = chainOf('x', 'y')
    for (let i = 1; i < blocks.length; i++) {
      expect(blocks[i]!.index).toBe(blocks[i - 1]!.index + 1)
      expect(blocks[i]!.previousHash).toBe(blocks[i - 1]!.hash)
    }
    expect(verifyChain(blocks).valid).toBe(true)
  })
})

describe('verifyChain properties', () => {
  const operation = fc.oneof(
    fc.record({ kind: fc.constant('append' as const), entries: fc.array(fc.string({ unit: 'grapheme' }), { minLength: 1, maxLength: 5 }), now: fc.integer({ min: 0, max: 2 ** 42 }) }),
    fc.record({ kind: fc.constant('burn' as const) })
  )

  it('any sequence of appends and burns leaves a chain that verifies', () => {
    fc.assert(fc.property(fc.array(operation, { maxLength: 30 }), (operations) => {
      const store = new ChainStore()
      for (const op of operations) {
        if (op.kind === 'append') store.append(op.entries, op.now)
        else store.burn()
      }
      const result = verifyChain(store.toArray())
      expect(result).toEqual({ valid: true, length: store.length, head: store.head.hash })
    }))
  })

  const field = fc.constantFrom('index', 'previousHash', 'timestamp', 'data', 'hash')

  it('changing any field of any block is detected at that block', () => {
    fc.assert(fc.property(
      fc.array(fc.string(), { minLength: 1, maxLength: 8 }),
      fc.nat(),
      field,
      fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null)),
      (entries, position, key, replacement) => {
        const blocks = chainOf(...entries)
        const index = position % blocks.length
        const target = blocks[index] as unknown as Record<string, unknown>
        // A change the chain's JSON cannot see (-0 for 0) is no change.
        fc.pre(JSON.stringify(target[key]) !== JSON.stringify(replacement))
        target[key] = replacement
        expect(verifyChain(blocks)).toMatchObject({ valid: false, index })
      }
    ))
  })
})
