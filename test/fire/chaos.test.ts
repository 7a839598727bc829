import { describe, expect, it } from 'vitest'
import { rollChaos } from '../../src/fire/chaos.js'
import { requestDraws, type Random } from '../../src/fire/random.js'
import { burnReason as reasonWithin } from '../../src/chain/budget.js'

function sequence (...values: number[]): Random & { drawn: number } {
  const random = Object.assign(() => {
    random.drawn += 1
    return values.shift() ?? 0.5
  }, { drawn: 0 })
  return random
}

describe('requestDraws', () => {
  it('gives request N the same draws for the same seed, whatever came before and wherever it is drawn', () => {
    const here = requestDraws('demo')
    const there = requestDraws('demo')
    const drawsOf = (draws: (n: number) => Random, n: number) => { const random = draws(n); return [random(), random()] }
    const inOrder = [1, 2, 3, 1_000_000, 2 ** 40].map((n) => drawsOf(here, n))
    const reversed = [2 ** 40, 1_000_000, 3, 2, 1].map((n) => drawsOf(there, n)).reverse()
    expect(reversed).toEqual(inOrder)
    expect(drawsOf(requestDraws('other'), 1)).not.toEqual(inOrder[0])
    expect(drawsOf(here, 1)[0]).not.toBe(drawsOf(here, 1)[1])
  })

  it('spreads evenly over [0, 1), for neighbouring requests and for each draw of one', () => {
    const draws = requestDraws('spread')
    const first: number[] = []
    const second: number[] = []
    for (let n = 1; n <= 20_000; n++) {
      const random = draws(n)
      first.push(random())
      second.push(random())
    }
    for (const values of [first, second]) {
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0)
      expect(Math.max(...values)).toBeLessThan(1)
      // Ten buckets, each within 10% of its share.
      const buckets = Array.from({ length: 10 }, (_, b) => values.filter((x) => x >= b / 10 && x < (b + 1) / 10).length)
      for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200)
    }
    // Whether request N fires says nothing about request N + 1, nor about its own burn.
    const both = first.filter((x, i) => x < 0.5 && (first[i + 1] ?? 1) < 0.5).length / first.length
    expect(both).toBeGreaterThan(0.23)
    expect(both).toBeLessThan(0.27)
    const fireAndBurn = first.filter((x, i) => x < 0.5 && (second[i] as number) < 0.5).length / first.length
    expect(fireAndBurn).toBeGreaterThan(0.23)
    expect(fireAndBurn).toBeLessThan(0.27)
  })
})

describe('rollChaos', () => {
  const rates = { fireRate: 0.05, burnRate: 0.02 }

  it('fires and wipes below the rates', () => {
    expect(rollChaos(sequence(0.01, 0.01), rates)).toEqual({ fire: true, burn: true })
    expect(rollChaos(sequence(0.05, 0.02), rates)).toEqual({ fire: false, burn: false })
  })

  it('never fires at rate 0 and always at rate 1', () => {
    expect(rollChaos(sequence(0, 0), { fireRate: 0, burnRate: 0 })).toEqual({ fire: false, burn: false })
    expect(rollChaos(sequence(0.999999, 0.999999), { fireRate: 1, burnRate: 1 })).toEqual({ fire: true, burn: true })
  })

  it.each([
    ['off', { fire: false, burn: false }],
    ['fire', { fire: true, burn: false }],
    ['burn', { fire: false, burn: true }],
    // The old name of burn.
    ['wipe', { fire: false, burn: true }]
  ] as const)('obeys the %s override and still draws twice', (override, expected) => {
    const random = sequence(0.01, 0.01)
    expect(rollChaos(random, { fireRate: 0.5, burnRate: 0 }, override)).toEqual(expected)
    expect(random.drawn).toBe(2)
  })
})

describe('burnReason', () => {
  const room = { bytes: 1000, incomingBytes: 100, maxBytes: 10_000 }
  const burnReason = ({ wipe, maxBlocks, maxBytes, ...check }: { wipe: boolean, length: number, incoming: number, maxBlocks: number, bytes: number, incomingBytes: number, maxBytes: number }) =>
    reasonWithin({ maxBlocks, maxBytes }, { burnRolled: wipe, ...check })

  it('burns at random when the roll says so', () => {
    expect(burnReason({ wipe: true, length: 5, incoming: 1, maxBlocks: 100, ...room })).toBe('random')
    expect(burnReason({ wipe: false, length: 5, incoming: 1, maxBlocks: 100, ...room })).toBeUndefined()
  })

  it('burns when the append would take the chain past the memory budget in blocks', () => {
    expect(burnReason({ wipe: false, length: 99, incoming: 1, maxBlocks: 100, ...room })).toBeUndefined()
    expect(burnReason({ wipe: false, length: 99, incoming: 2, maxBlocks: 100, ...room })).toBe('memory budget')
    expect(burnReason({ wipe: true, length: 100, incoming: 1, maxBlocks: 100, ...room })).toBe('memory budget')
  })

  it('burns when the append would take the chain past the memory budget in bytes, whatever the roll', () => {
    const blocks = { length: 5, incoming: 1, maxBlocks: 100 }
    expect(burnReason({ wipe: false, ...blocks, bytes: 9000, incomingBytes: 1000, maxBytes: 10_000 })).toBeUndefined()
    expect(burnReason({ wipe: false, ...blocks, bytes: 9000, incomingBytes: 1001, maxBytes: 10_000 })).toBe('memory budget')
    expect(burnReason({ wipe: true, ...blocks, bytes: 9000, incomingBytes: 1001, maxBytes: 10_000 })).toBe('memory budget')
    // One request bigger than the whole budget burns even an empty chain.
    expect(burnReason({ wipe: false, ...blocks, bytes: 0, incomingBytes: 20_000, maxBytes: 10_000 })).toBe('memory budget')
  })
})
