import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { MemoryBackend, type AppendOutcome } from '../../src/chain/backend.js'
import { GENESIS } from '../../src/chain/block.js'
import type { ChainLimits } from '../../src/chain/budget.js'
import { Chain } from '../../src/chain/chain.js'
import type { ChainEvent, Origin } from '../../src/chain/events.js'
import { ChainStore } from '../../src/chain/store.js'
import { redisBackend, redisMissing } from '../redis-server.js'

const ROOMY: ChainLimits = { maxBlocks: 100_000, maxBytes: 64 * 1024 * 1024 }

type Factory = (limits?: ChainLimits) => Promise<Chain>

const open: Chain[] = []
afterEach(async () => { await Promise.all(open.splice(0).map((chain) => chain.close())) })

function memory (): Factory {
  return async (limits = ROOMY) => {
    const chain = new Chain(new MemoryBackend(new ChainStore(), limits))
    open.push(chain)
    return chain
  }
}

/** Each chain its own namespace, unless a test asks for a second replica of one. */
function redis (namespace = `test-${randomBytes(4).toString('hex')}`): Factory {
  return async (limits = ROOMY) => {
    const chain = new Chain(await redisBackend({ url: inject('redisUrl'), namespace, store: new ChainStore(), limits }))
    open.push(chain)
    return chain
  }
}

function appended (outcome: AppendOutcome) {
  if (!outcome.appended) throw new Error(`expected an append, got a burn (${outcome.reason})`)
  return outcome
}

function recorder (chain: Chain) {
  const events: Array<[ChainEvent['type'], Origin]> = []
  chain.subscribe((event, origin) => { events.push([event.type, origin]) })
  return events
}

const backends: Array<[string, () => Factory, boolean]> = [
  ['memory', memory, true],
  [`redis${redisMissing}`, () => redis(), redisMissing === '']
]

describe.each(backends)('the chain contract: %s', (_name, factory, runs) => {
  const it_ = runs ? it : it.skip

  it_('starts as genesis alone, and verifies', async () => {
    const chain = await factory()()
    expect(chain.length).toBe(1)
    expect(chain.head).toEqual(GENESIS)
    expect(chain.verify()).toEqual({ valid: true, length: 1, head: GENESIS.hash })
  })

  it_('appends a batch whole, in order, and publishes one append', async () => {
    const chain = await factory()()
    const events = recorder(chain)
    const outcome = appended(await chain.append(['a', 'b'], 1_700_000_000_000))
    expect(outcome.blocks.map((b) => b.data)).toEqual(['a', 'b'])
    expect(outcome.length).toBe(3)
    expect(`[${Buffer.concat(outcome.slice.parts).toString()}]`).toBe(JSON.stringify(outcome.blocks))
    expect(chain.toArray().map((b) => b.data)).toEqual([GENESIS.data, 'a', 'b'])
    expect(events).toEqual([['append', 'local']])
    expect(chain.verify().valid).toBe(true)
  })

  it_('keeps every one of many concurrent appends exactly once, in the order they were asked for', async () => {
    const chain = await factory()()
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => chain.append([`line ${i}`, `more ${i}`], 1_700_000_000_000 + i)))
    expect(outcomes.every((o) => o.appended)).toBe(true)
    const data = chain.toArray().slice(1).map((b) => b.data)
    expect(data).toEqual(Array.from({ length: 200 }, (_, i) => [`line ${i}`, `more ${i}`]).flat())
    expect(chain.verify().valid).toBe(true)
  })

  it_('never lets a timestamp go backwards', async () => {
    const chain = await factory()()
    await chain.append(['later'], 2_000_000_000_000)
    const { blocks } = appended(await chain.append(['earlier clock'], 1_000_000_000_000))
    expect(blocks[0]?.timestamp).toBe(2_000_000_000_000)
  })

  it_('burns instead of appending when the roll says so: nothing of the request is stored', async () => {
    const chain = await factory()()
    const events = recorder(chain)
    await chain.append(['a', 'b', 'c'], 1)
    const outcome = await chain.append(['doomed'], 1, true)
    expect(outcome).toEqual({ appended: false, burned: 3, reason: 'random' })
    expect(chain.length).toBe(1)
    expect(chain.epoch).toBe(1)
    expect(chain.toArray()).toEqual([GENESIS])
    expect(events).toEqual([['append', 'local'], ['burn', 'local']])
    expect(chain.lastBurn).toMatchObject({ epoch: 1, burned: 3, reason: 'random' })
  })

  it_('burns only for the request that would take it past its block budget', async () => {
    const chain = await factory()({ maxBlocks: 11, maxBytes: ROOMY.maxBytes })
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => chain.append([`line ${i}`], 1)))
    expect(outcomes.map((o) => o.appended)).toEqual([...Array(10).fill(true), false, true])
    expect(outcomes[10]).toEqual({ appended: false, burned: 10, reason: 'memory budget' })
    expect(chain.toArray().slice(1).map((b) => b.data)).toEqual(['line 11'])
  })

  it_('burns when the bytes would pass the byte budget, whatever the roll', async () => {
    const chain = await factory()({ maxBlocks: ROOMY.maxBlocks, maxBytes: 2000 })
    await chain.append(['x'.repeat(1000)], 1)
    expect(await chain.append(['y'.repeat(1000)], 1)).toMatchObject({ appended: false, reason: 'memory budget' })
  })

  it_('burns on the button, and tells how many blocks were lost', async () => {
    const chain = await factory()()
    await chain.append(['a', 'b'], 1)
    expect(await chain.burn('admin')).toBe(2)
    expect(chain.length).toBe(1)
    expect(chain.lastBurn).toMatchObject({ burned: 2, reason: 'admin' })
    appended(await chain.append(['after'], 1))
    expect(chain.toArray().map((b) => b.index)).toEqual([0, 1])
  })

  it_('lets a reader that started before a burn finish the chain it started', async () => {
    const chain = await factory()()
    await chain.append(['kept for the reader'], 1)
    const read = chain.read()
    await chain.burn('admin')
    await chain.append(['x'.repeat(2000)], 1)
    expect(Buffer.concat(read.parts).toString()).toContain('kept for the reader')
    read.release()
  })

  it_('numbers requests once each, from 1, however many ask at once', async () => {
    const chain = await factory()()
    const numbers = await Promise.all(Array.from({ length: 100 }, async () => await chain.nextRequestNumber()))
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
  })

  it_('grants a lease to one holder until it runs out', async () => {
    const chain = await factory()()
    expect(await chain.shared.lease('balloon:stage', 200)).toBe(true)
  })

  it_('counts: each caller its own value, however many add at once, and 0 reads without adding', async () => {
    const chain = await factory()()
    const values = await Promise.all(Array.from({ length: 50 }, async () => await chain.shared.count('scenario:1:0:0', 1)))
    expect([...values].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1))
    expect(await chain.shared.count('scenario:1:0:0', 0)).toBe(50)
    expect(await chain.shared.count('another', 2)).toBe(2)
  })

  it_('tallies a frequency window: one caller alone sees the threshold, the window then empties, and the oldest group goes first', async () => {
    const chain = await factory()()
    const window = { withinMs: 60_000, threshold: 10, maxGroups: 2 }
    const counts = await Promise.all(Array.from({ length: 50 }, async () => await chain.windows.tally('burst', '198.51.100.7', 1000, window)))
    expect(counts.filter((count) => count >= 10)).toHaveLength(5)
    // Matches older than the window do not count.
    expect(await chain.windows.tally('burst', 'a', 1000, window)).toBe(1)
    expect(await chain.windows.tally('burst', 'a', 61_000, window)).toBe(1)
    // A third group pushes out the one matched longest ago.
    await chain.windows.tally('burst', 'b', 61_001, window)
    await chain.windows.tally('burst', 'c', 61_002, window)
    expect(await chain.windows.tally('burst', 'a', 61_003, window)).toBe(1)
    expect(await chain.windows.tally('burst', 'c', 61_004, window)).toBe(2)
  })

  it_('watches a flatline: one caller alone hears "fire", and the match that ends it names the alert that fired', async () => {
    const chain = await factory()()
    const window = { threshold: 1, withinMs: 1000 }
    expect(await chain.windows.flatlineLook('quiet', 500, window, 0)).toEqual({ next: 1000 })
    const looks = await Promise.all([chain.windows.flatlineLook('quiet', 1000, window, 0), chain.windows.flatlineLook('quiet', 1000, window, 0)])
    expect(looks).toContainEqual({ fire: 0 })
    expect(looks).toContainEqual({ firing: true })
    await chain.windows.flatlineFired('quiet', 7)
    expect(await chain.windows.flatlineLook('quiet', 1200, window, 0)).toEqual({ firing: true })
    expect(await chain.windows.flatlineMatch('quiet', 1500, window, 0)).toBe(7)
    expect(await chain.windows.flatlineMatch('quiet', 1600, window, 0)).toBeUndefined()
    expect(await chain.windows.flatlineLook('quiet', 1700, window, 0)).toEqual({ next: 2600 })
  })

  it_('keeps a shared document', async () => {
    const chain = await factory()()
    expect(await chain.shared.load('settings')).toBeUndefined()
    await chain.shared.save('settings', { fireRate: 0.5 })
    expect(await chain.shared.load('settings')).toEqual({ fireRate: 0.5 })
  })
})
