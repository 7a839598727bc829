import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { Chain } from '../../src/chain/chain.js'
import type { ChainEvent, Origin } from '../../src/chain/events.js'
import { Redis } from 'ioredis'
import { redisOptions } from '../../src/chain/redis-link.js'
import { ChainStore } from '../../src/chain/store.js'
import { redisBackend, redisMissing } from '../redis-server.js'

const LIMITS = { maxBlocks: 100_000, maxBytes: 64 * 1024 * 1024 }
const open: Chain[] = []
afterEach(async () => { await Promise.all(open.splice(0).map((chain) => chain.close())) })

/** Replicas of one chain: each its own store, all on one namespace of the tests' Redis. */
async function replicas (count: number, namespace = `replicas-${randomBytes(4).toString('hex')}`): Promise<Chain[]> {
  const chains: Chain[] = []
  for (let i = 0; i < count; i++) {
    const chain = new Chain(await redisBackend({ url: inject('redisUrl'), namespace, store: new ChainStore(), limits: LIMITS }))
    open.push(chain)
    chains.push(chain)
  }
  return chains
}

async function until (condition: () => boolean, ms = 5000): Promise<void> {
  const began = Date.now()
  while (!condition()) {
    if (Date.now() - began > ms) throw new Error('timed out waiting')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

const text = (chain: Chain) => Buffer.concat(chain.slice().parts).toString()

describe.skipIf(redisMissing !== '')(`replicas of one chain in Redis${redisMissing}`, () => {
  it('shares counters: two replicas adding to one count as one', async () => {
    const [a, b] = await replicas(2) as [Chain, Chain]
    const values = await Promise.all(Array.from({ length: 20 }, async (_, i) => await (i % 2 === 0 ? a : b).shared.count('step', 1)))
    expect([...values].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
  })

  it('shows each replica what another appended, as a remote append', async () => {
    const [a, b] = await replicas(2) as [Chain, Chain]
    const seen: Array<[ChainEvent['type'], Origin]> = []
    b.subscribe((event, origin) => { seen.push([event.type, origin]) })
    await a.append(['from a'], 1)
    await until(() => b.length === 2)
    expect(text(b)).toBe(text(a))
    expect(seen).toEqual([['append', 'remote']])
  })

  it('carries lines of any script, and line breaks, to another replica byte for byte', async () => {
    const [a, b] = await replicas(2) as [Chain, Chain]
    const lines = ['ünïcödé', '🔥 lp0 on fire', '日本語のログ', 'two\nlines\r\n', '"quoted" \\ back']
    await Promise.all(lines.map(async (line) => await a.append([line, `${line} again`], 1)))
    await until(() => b.length === a.length)
    expect(text(b)).toBe(text(a))
    expect(b.slice().count).toBe(1 + 2 * lines.length)
  })

  it('ends with one identical chain, every entry once, when replicas append at once', async () => {
    const chains = await replicas(3)
    await Promise.all(chains.flatMap((chain, r) => Array.from({ length: 100 }, (_, i) => chain.append([`r${r} ${i}`], 1))))
    await until(() => chains.every((chain) => chain.length === 301))
    const [first, ...rest] = chains.map(text)
    for (const other of rest) expect(other).toBe(first)
    const data = (chains[0] as Chain).toArray().slice(1).map((b) => b.data).sort()
    expect(data).toEqual(chains.flatMap((_, r) => Array.from({ length: 100 }, (_, i) => `r${r} ${i}`)).sort())
    expect((chains[1] as Chain).verify().valid).toBe(true)
  })

  it('never leaves an append waiting on its replica catching up: racing clients, each answered in well under the catch-up bound (5 s)', async () => {
    const [a, b] = await replicas(2) as [Chain, Chain]
    let slowest = 0
    // Six clients on each replica, as behind a balancer: one replica's
    // append is refused while the other's lands, and more requests arrive
    // while it catches up.
    const client = async (chain: Chain, name: string) => {
      for (let i = 0; i < 50; i++) {
        const began = Date.now()
        await chain.append([`${name} ${i}`], 1)
        slowest = Math.max(slowest, Date.now() - began)
        // Each at its own pace, so that some arrive while a refused append catches up.
        await new Promise((resolve) => setTimeout(resolve, i % 3))
      }
    }
    await Promise.all(['a', 'b'].flatMap((name, r) => Array.from({ length: 6 }, (_, c) => client(r === 0 ? a : b, `${name}${c}`))))
    expect(slowest).toBeLessThan(2000)
    await until(() => a.length === 601 && b.length === 601)
    expect(text(b)).toBe(text(a))
  }, 60_000)

  it('burns every replica\'s copy, with the reason and the blocks lost', async () => {
    const [a, b] = await replicas(2) as [Chain, Chain]
    await a.append(['x', 'y'], 1)
    await until(() => b.length === 3)
    await a.burn('admin')
    await until(() => b.epoch === 1)
    expect(b.length).toBe(1)
    expect(b.lastBurn).toMatchObject({ epoch: 1, burned: 2, reason: 'admin' })
    await b.append(['after'], 1)
    await until(() => a.length === 2)
    expect(text(a)).toBe(text(b))
  })

  it('leases a device to one replica at a time, until the lease runs out', async () => {
    const [a, b] = await replicas(2) as [Chain, Chain]
    expect(await a.shared.lease('balloon:stage', 300)).toBe(true)
    expect(await b.shared.lease('balloon:stage', 300)).toBe(false)
    expect(await a.shared.lease('balloon:stage', 300)).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 400))
    expect(await b.shared.lease('balloon:stage', 300)).toBe(true)
  })

  it('gives a replica that starts late the whole chain', async () => {
    const namespace = `late-${randomBytes(4).toString('hex')}`
    const [a] = await replicas(1, namespace) as [Chain]
    for (let i = 0; i < 5; i++) await a.append(Array.from({ length: 1000 }, (_, j) => `${i}.${j}`), 1)
    const [late] = await replicas(1, namespace) as [Chain]
    expect(late.length).toBe(5001)
    expect(text(late)).toBe(text(a))
  })

  it('stores what queued during an append as one stream entry per batch of at most 1 MiB, which a late replica reads whole', async () => {
    const namespace = `batches-${randomBytes(4).toString('hex')}`
    const [a] = await replicas(1, namespace) as [Chain]
    const line = (r: number, i: number) => `${r}.${i} `.padEnd(1000, 'x')
    await Promise.all(Array.from({ length: 40 }, (_, r) => a.append(Array.from({ length: 100 }, (_, i) => line(r, i)), 1)))
    const redis = new Redis(redisOptions(inject('redisUrl')))
    try {
      const entries = await redis.xlen(`{${namespace}}:chain`)
      // Genesis, then 4 MB of requests in batches of at most 1 MiB: more than 4 entries, far fewer than 40.
      expect(entries).toBeGreaterThan(1 + 4)
      expect(entries).toBeLessThan(1 + 40)
    } finally {
      redis.disconnect()
    }
    const [late] = await replicas(1, namespace) as [Chain]
    expect(late.length).toBe(4001)
    expect(text(late)).toBe(text(a))
    expect(late.verify().valid).toBe(true)
  })

  it('shares the events that are not the chain\'s own, and numbers requests across replicas', async () => {
    const [a, b] = await replicas(2) as [Chain, Chain]
    const seen: ChainEvent[] = []
    b.subscribe((event, origin) => { if (origin === 'remote') seen.push(event) })
    a.publish({ type: 'fire', request: 7 })
    await until(() => seen.length === 1)
    expect(seen).toEqual([{ type: 'fire', request: 7 }])
    const numbers = await Promise.all([a, b, a, b].map(async (chain) => await chain.nextRequestNumber()))
    expect(numbers.sort()).toEqual([1, 2, 3, 4])
  })
})
