import { describe, expect, it } from 'vitest'
import { parseChaosHeader, rollChaos } from '../../src/fire/chaos.js'
import { CHAOS_PRESETS, delayMs, FAULT_NAMES, faultOf, NO_FAULT_SETTINGS } from '../../src/fire/faults.js'
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
  const calm = { ...NO_FAULT_SETTINGS, fireRate: 0, burnRate: 0 }
  const rates = { ...calm, fireRate: 0.05, burnRate: 0.02 }

  it('fires and burns below the rates', () => {
    expect(rollChaos(sequence(0.01, 0.01), rates)).toEqual({ fire: true, burn: true, faults: [] })
    expect(rollChaos(sequence(0.05, 0.02), rates)).toEqual({ fire: false, burn: false, faults: [] })
  })

  it('never fires at rate 0 and always at rate 1', () => {
    expect(rollChaos(sequence(0, 0), calm)).toEqual({ fire: false, burn: false, faults: [] })
    expect(rollChaos(sequence(0.999999, 0.999999), { ...calm, fireRate: 1, burnRate: 1 })).toEqual({ fire: true, burn: true, faults: [] })
  })

  it('draws only for lp0 and the burn while every fault rate is 0, so old seeds replay as they did', () => {
    const random = sequence(0.01, 0.01)
    rollChaos(random, rates)
    expect(random.drawn).toBe(2)
  })

  it('rolls each fault on its own, after lp0 and the burn, in the order a request meets them', () => {
    const everything = { ...rates, delayRate: 1, resetRate: 1, statusRate: 1, hangRate: 1, closeRate: 1, slowReadRate: 1, resetAfterAppendRate: 1, garbageRate: 1, slowResponseRate: 1, statusCodes: [502, 504] }
    const roll = rollChaos(requestDraws('all')(1), everything)
    expect(roll.faults.map((fault) => fault.name)).toEqual(FAULT_NAMES)
    expect([502, 504]).toContain(faultOf(roll.faults, 'status')?.code)
    expect(faultOf(roll.faults, 'delay')?.ms).toBe(everything.delayMs)
    expect(faultOf(roll.faults, 'hang')?.ms).toBe(everything.hangMs)
    // At rate 0.5 about half the requests meet each fault, independently.
    const half = { ...calm, resetRate: 0.5, garbageRate: 0.5 }
    const draws = requestDraws('half')
    const rolls = Array.from({ length: 4000 }, (_, n) => rollChaos(draws(n + 1), half).faults.map((fault) => fault.name).join('+'))
    for (const kind of ['', 'reset', 'garbage', 'reset+garbage']) {
      const share = rolls.filter((names) => names === kind).length / rolls.length
      expect(share).toBeGreaterThan(0.22)
      expect(share).toBeLessThan(0.28)
    }
  })

  it('gives request N the same fate for the same seed and settings', () => {
    const settings = CHAOS_PRESETS['hostile-network']
    const fates = (seed: string) => Array.from({ length: 500 }, (_, n) => rollChaos(requestDraws(seed)(n + 1), { ...NO_FAULT_SETTINGS, ...settings, fireRate: 0.05, burnRate: 0.02 }))
    expect(fates('replay')).toEqual(fates('replay'))
    expect(fates('replay')).not.toEqual(fates('other'))
  })
})

describe('delayMs', () => {
  const uniform = { delayMs: 1000, delayJitterMs: 200, delayDistribution: 'uniform' as const, delaySigma: 0.5 }

  it('spreads a uniform delay evenly over delayMs ± jitter, and never below 0', () => {
    expect(delayMs(uniform, 0, 0.3)).toBe(800)
    expect(delayMs(uniform, 0.5, 0.3)).toBe(1000)
    expect(delayMs(uniform, 0.999999, 0.3)).toBe(1200)
    expect(delayMs({ ...uniform, delayJitterMs: 0 }, 0.9, 0.1)).toBe(1000)
    expect(delayMs({ ...uniform, delayMs: 10, delayJitterMs: 50 }, 0, 0)).toBe(0)
  })

  it('draws a lognormal delay around its median, with a long tail', () => {
    const lognormal = { ...uniform, delayDistribution: 'lognormal' as const }
    const draws = requestDraws('lognormal')
    const delays = Array.from({ length: 20_000 }, (_, n) => { const random = draws(n); return delayMs(lognormal, random(), random()) }).sort((a, b) => a - b)
    const median = delays[delays.length / 2] as number
    expect(median).toBeGreaterThan(950)
    expect(median).toBeLessThan(1050)
    // exp(1.645 × 0.5) = 2.28: one delay in twenty is past 2.28 × the median.
    const p95 = delays[Math.floor(delays.length * 0.95)] as number
    expect(p95 / 1000).toBeGreaterThan(2.1)
    expect(p95 / 1000).toBeLessThan(2.5)
    expect(delays[0]).toBeGreaterThanOrEqual(0)
  })
})

describe('parseChaosHeader', () => {
  const limits = { maxForcedDelayMs: 60_000, hangMs: 300_000 }

  it.each([
    ['off', { fire: false, burn: false, faults: [] }],
    ['', { fire: false, burn: false, faults: [] }],
    ['fire', { fire: true, burn: false, faults: [] }],
    ['burn', { fire: false, burn: true, faults: [] }],
    // The old name of burn.
    ['wipe', { fire: false, burn: true, faults: [] }],
    ['Delay=1500, RESET-AFTER-APPEND', { fire: false, burn: false, faults: [{ name: 'delay', ms: 1500 }, { name: 'reset-after-append' }] }],
    ['hang', { fire: false, burn: false, faults: [{ name: 'hang', ms: 300_000 }] }],
    ['reset,close , garbage', { fire: false, burn: false, faults: [{ name: 'reset' }, { name: 'close' }, { name: 'garbage' }] }],
    ['status=429', { fire: false, burn: false, faults: [{ name: 'status', code: 429 }] }],
    ['slow-read=1024, slow-response=2000', { fire: false, burn: false, faults: [{ name: 'slow-read', bytesPerSecond: 1024, forMs: 60_000 }, { name: 'slow-response', ms: 2000 }] }],
    // Past LOGFIRE_MAX_FORCED_DELAY_MS, cut to it.
    ['delay=999999999, slow-response=70000', { fire: false, burn: false, faults: [{ name: 'delay', ms: 60_000 }, { name: 'slow-response', ms: 60_000 }] }]
  ])('reads %j', (header, expected) => {
    expect(parseChaosHeader(header, limits)).toEqual(expected)
  })

  it.each([
    ['bogus', 'bogus', 'not a directive'],
    ['fire, sparkle', 'sparkle', 'not a directive'],
    ['delay', 'delay', 'delay needs a value, e.g. delay=1000'],
    ['delay=', 'delay=', 'delay takes a whole number of milliseconds'],
    ['delay=-5', 'delay=-5', 'delay takes a whole number of milliseconds'],
    ['delay=1.5', 'delay=1.5', 'delay takes a whole number of milliseconds'],
    ['slow-read=0', 'slow-read=0', 'slow-read takes a whole number of bytes per second, at least 1'],
    ['status=200', 'status=200', 'status takes a status from 400 to 599'],
    ['status=600', 'status=600', 'status takes a status from 400 to 599'],
    ['reset=1', 'reset=1', 'not a directive that takes a value']
  ])('refuses %j, naming %j', (header, directive, problem) => {
    expect(parseChaosHeader(header, limits)).toEqual({ directive, problem })
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
