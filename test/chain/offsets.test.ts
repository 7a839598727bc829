import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Offsets } from '../../src/chain/offsets.js'

describe('Offsets', () => {
  it('keeps every offset pushed, in order, across growth and clears', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.maxSafeNat(), { maxLength: 3000 }), { minLength: 1, maxLength: 3 }), (chains) => {
      const offsets = new Offsets()
      for (const chain of chains) {
        offsets.clear()
        for (const offset of chain) offsets.push(offset)
        expect(offsets.length).toBe(chain.length)
        expect(Array.from({ length: chain.length }, (_, i) => offsets.at(i))).toEqual(chain)
      }
    }), { numRuns: 50 })
  })
})
