import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject } from 'vitest'
import type { Config } from '../../src/config.js'
import { it, type Defer } from '../defer.js'
import { appForTest, readUntil, testConfig, type TestApp } from '../helpers.js'
import { privateRedis, redisMissing } from '../redis-server.js'

const redis = redisMissing === '' ? new Redis(inject('redisUrl')) : undefined
afterAll(async () => { await redis?.quit() })

interface NewFire { id: string, ingestToken: string, viewToken: string, adminToken: string, expiresAt: string }

/** Replicas in open mode on one namespace of the tests' Redis, on the real clock: Redis's expiry is real time. */
async function replicas (defer: Defer, count: number, fires: Partial<Config['fires']> = {}, url = inject('redisUrl')): Promise<{ apps: TestApp[], namespace: string }> {
  const namespace = `fires-${randomBytes(4).toString('hex')}`
  const apps: TestApp[] = []
  for (let i = 0; i < count; i++) {
    apps.push(await appForTest(defer, {
      redis: { url, namespace, replica: `replica-${i}` },
      fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0, ...fires }
    }, { clock: Date.now }))
  }
  return { apps, namespace }
}

async function createFire (app: TestApp): Promise<NewFire> {
  const response = await app.inject({ method: 'POST', url: '/fires' })
  expect(response.statusCode).toBe(201)
  return response.json()
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
const postTo = (app: TestApp, token: string, line: string) => app.inject({ method: 'POST', url: '/logs', payload: line, headers: bearer(token) })
const readFrom = async (app: TestApp, token: string) => {
  const response = await app.inject({ url: '/logs', headers: bearer(token) })
  return response.statusCode === 200 ? response.json<Array<{ data: string }>>().map((block) => block.data) : response.statusCode
}

const keysOf = async (namespace: string) => (await (redis as Redis).keys(`*${namespace}*`)).sort()
/** How many replicas follow a fire's chain: its tick's subscribers. */
const followers = async (namespace: string, id: string) => {
  const [, count] = await (redis as Redis).call('PUBSUB', 'SHARDNUMSUB', `{${namespace}:${id}}:tick`) as [string, number]
  return count
}
/** How many chains each replica follows (the public one included), from CLIENT LIST: no connection of their own. */
const following = async (namespace: string) => {
  const clients = (await (redis as Redis).client('LIST') as string).split('\n').filter((line) => line.includes('name=logfire:') && line.includes(`:${namespace} `))
  const counts: Record<string, number> = {}
  for (const line of clients) {
    const replica = /name=logfire:([^:]+):/.exec(line)?.[1] ?? ''
    counts[replica] = (counts[replica] ?? 0) + Number(/ ssub=(\d+)/.exec(line)?.[1] ?? 0)
  }
  return counts
}

describe.skipIf(redisMissing !== '')(`fires on Redis, shared by replicas${redisMissing}`, { concurrent: true }, () => {
  it('serves a fire created on one replica from every other: written on B, read on A, its keys under its own hash tag', async ({ defer }) => {
    const { apps, namespace } = await replicas(defer, 2)
    const [a, b] = apps as [TestApp, TestApp]
    const fire = await createFire(a)
    expect((await postTo(b, fire.ingestToken, 'written on b')).statusCode).toBe(200)
    expect(await readUntil(() => readFrom(a, fire.viewToken), (data) => Array.isArray(data) && data.length === 2)).toEqual(['my genesis block!!', 'written on b'])
    // Scopes hold on every replica, and the public fire stays apart.
    expect((await postTo(a, fire.viewToken, 'not with a view token')).statusCode).toBe(401)
    expect((await a.inject({ url: '/logs' })).json()).toHaveLength(1)

    const keys = await keysOf(namespace)
    const ofTheFire = keys.filter((key) => key.startsWith(`{${namespace}:${fire.id}}:`))
    expect(ofTheFire).toEqual(expect.arrayContaining([`{${namespace}:${fire.id}}:fire`, `{${namespace}:${fire.id}}:head`, `{${namespace}:${fire.id}}:chain`]))
    // The three tokens' digests under the fire's tag, never a token; besides the public chain's, only the fire's part of the count, which has no tag.
    expect(ofTheFire.filter((key) => key.includes(':token:')).map((key) => key.replace(/token:[\w-]{43}$/, 'token:<digest>'))).toEqual(Array(3).fill(`{${namespace}:${fire.id}}:token:<digest>`))
    const registry = keys.filter((key) => !ofTheFire.includes(key) && !/^\{[^}:]+\}:(head|chain|events|requests|shared:)/.test(key) && !key.includes(':rate:'))
    expect(registry.map((key) => key.replace(/alight:\d+$/, 'alight:<part>'))).toEqual([`${namespace}:alight:<part>`])
    for (const token of [fire.ingestToken, fire.viewToken, fire.adminToken]) {
      for (const key of keys) expect(`${key} ${await (redis as Redis).type(key) === 'string' ? await (redis as Redis).get(key) : ''}`).not.toContain(token)
    }
  })

  it('counts LOGFIRE_MAX_FIRES over every replica', async ({ defer }) => {
    const { apps } = await replicas(defer, 2, { maxFires: 2 })
    const [a, b] = apps as [TestApp, TestApp]
    await createFire(a)
    await createFire(b)
    const full = await a.inject({ method: 'POST', url: '/fires' })
    expect(full.statusCode).toBe(503)
    expect(full.json()).toMatchObject({ code: 'LOGFIRE_FIRES_FULL' })
    expect((await b.inject({ method: 'POST', url: '/fires' })).statusCode).toBe(503)
  })

  it('keeps a fire alight while it is used through any replica, and puts it out everywhere, keys and all, once idle', async ({ defer }) => {
    const { apps, namespace } = await replicas(defer, 2, { idleMs: 1500 })
    const [a, b] = apps as [TestApp, TestApp]
    const fire = await createFire(a)
    // Used through A and B in turn for twice the idle time: never out.
    const began = Date.now()
    for (let i = 0; Date.now() - began < 3000; i++) {
      expect((await postTo(i % 2 === 0 ? a : b, fire.ingestToken, `line ${i}`)).statusCode).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    expect(await keysOf(`${namespace}:${fire.id}`)).not.toEqual([])
    // Then left alone: out on both, and nothing of it is left in Redis.
    await new Promise((resolve) => setTimeout(resolve, 1800))
    expect(await readFrom(a, fire.viewToken)).toBe(401)
    expect(await readFrom(b, fire.viewToken)).toBe(401)
    expect((await postTo(b, fire.ingestToken, 'too late')).statusCode).toBe(401)
    await readUntil(() => keysOf(`${namespace}:${fire.id}`), (keys) => keys.length === 0)
    expect((await keysOf(namespace)).filter((key) => key.includes(':token:'))).toEqual([])
  })

  it('is followed only by the replicas it is used through, and only while it is', async ({ defer }) => {
    const { apps, namespace } = await replicas(defer, 3, { idleMs: 60_000 })
    const [a, b, c] = apps as [TestApp, TestApp, TestApp]
    const fire = await createFire(a)
    const other = await createFire(a)
    // Created, never used: no replica follows its chain.
    expect(await followers(namespace, fire.id)).toBe(0)
    expect((await postTo(b, fire.ingestToken, 'through b')).statusCode).toBe(200)
    expect(await readFrom(c, fire.viewToken)).toEqual(['my genesis block!!', 'through b'])
    expect(await followers(namespace, fire.id)).toBe(2)
    expect(await followers(namespace, other.id)).toBe(0)
    // B and C follow it besides the public chain; A, where it was created, does not. Each with its one subscriber.
    expect(await following(namespace)).toEqual({ 'replica-0': 1, 'replica-1': 2, 'replica-2': 2 })
  })

  it('lets go of a fire no one uses through it, and still serves it when asked again', async ({ defer }) => {
    const { apps, namespace } = await replicas(defer, 2, { idleMs: 1500 })
    const [a, b] = apps as [TestApp, TestApp]
    const fire = await createFire(a)
    expect((await postTo(a, fire.ingestToken, 'once')).statusCode).toBe(200)
    expect(await readFrom(b, fire.viewToken)).toEqual(['my genesis block!!', 'once'])
    expect(await following(namespace)).toEqual({ 'replica-0': 2, 'replica-1': 2 })
    // Used through A only: B stops following it, A does not.
    const began = Date.now()
    while (Date.now() - began < 2500) {
      expect((await postTo(a, fire.ingestToken, 'again')).statusCode).toBe(200)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(await following(namespace)).toEqual({ 'replica-0': 2, 'replica-1': 1 })
    expect(await readFrom(b, fire.viewToken)).toEqual(expect.arrayContaining(['once', 'again']))
  })

  it('answers 503 LOGFIRE_STORE_UNAVAILABLE for fires while Redis is away, and serves them again when it is back', async ({ defer }) => {
    const server = await privateRedis({ appendonly: true })
    try {
      const { apps } = await replicas(defer, 2, {}, server.url)
      const [a, b] = apps as [TestApp, TestApp]
      const fire = await createFire(a)
      expect((await postTo(a, fire.ingestToken, 'before')).statusCode).toBe(200)
      await server.stop()
      for (const answer of [await a.inject({ method: 'POST', url: '/fires' }), await readUntil(() => postTo(a, fire.ingestToken, 'during'), (r) => r.statusCode === 503), await postTo(b, fire.ingestToken, 'during')]) {
        expect(answer.statusCode).toBe(503)
        expect(answer.json()).toMatchObject({ code: 'LOGFIRE_STORE_UNAVAILABLE' })
      }
      await server.start()
      await readUntil(() => postTo(b, fire.ingestToken, 'after'), (r) => r.statusCode === 200, 10_000)
      expect(await readUntil(() => readFrom(a, fire.viewToken), (data) => Array.isArray(data) && data.includes('after'))).toEqual(['my genesis block!!', 'before', 'after'])
    } finally {
      await server.remove()
    }
  })
})
