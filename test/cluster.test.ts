import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { privateCluster, type ClusterNode, type PrivateCluster } from '../scripts/lib/redis-cluster.js'
import type { Config } from '../src/config.js'
import { appsClosedAfterEach, readUntil, testConfig, type TestApp } from './helpers.js'
import { redisMissing } from './redis-server.js'

const start = appsClosedAfterEach()

interface NewFire { id: string, ingestToken: string, viewToken: string }

/** Replicas in open mode on a namespace of their own, on the cluster. */
async function replicas (cluster: PrivateCluster, count: number, overrides: Partial<Config> = {}): Promise<{ apps: TestApp[], namespace: string }> {
  const namespace = `cl-${randomBytes(4).toString('hex')}`
  const apps: TestApp[] = []
  for (let i = 0; i < count; i++) {
    apps.push(await start({
      redis: { cluster: cluster.seeds, namespace, replica: `replica-${i}` },
      fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 },
      ...overrides
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
const linesOf = async (app: TestApp, fire: NewFire) => {
  const response = await app.inject({ url: '/logs', headers: bearer(fire.viewToken) })
  return response.statusCode === 200 ? response.json<Array<{ data: string }>>().slice(1).map((block) => block.data) : []
}
const verdict = async (app: TestApp, fire: NewFire) => (await app.inject({ url: '/logs/verify', headers: bearer(fire.viewToken) })).json<{ valid: boolean }>()

/** The master that serves a key's slot now. */
async function ownerOf (cluster: PrivateCluster, key: string): Promise<ClusterNode> {
  const slot = Number(await cluster.nodes[0]?.cli('CLUSTER', 'KEYSLOT', key))
  for (const node of cluster.nodes) {
    const mine = (await node.cli('CLUSTER', 'NODES')).split('\n').find((line) => line.includes('myself'))
    if (mine === undefined || !mine.includes('master')) continue
    for (const range of mine.split(' ').slice(8)) {
      const [low, high = low] = range.split('-').map(Number) as [number, number?]
      if (slot >= low && slot <= (high as number)) return node
    }
  }
  throw new Error(`no master serves slot ${slot}`)
}

/**
 * Moves one slot to another master, key by key, the way redis-cli's
 * reshard does: IMPORTING and MIGRATING, MIGRATE, then SETSLOT NODE on
 * every master. Between keys, clients meet ASK and TRYAGAIN.
 */
async function moveSlot (cluster: PrivateCluster, slot: number, from: ClusterNode, to: ClusterNode, pauseMs: number): Promise<void> {
  const [fromId, toId] = [await from.cli('CLUSTER', 'MYID'), await to.cli('CLUSTER', 'MYID')]
  await to.cli('CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId)
  await from.cli('CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId)
  for (;;) {
    const keys = (await from.cli('CLUSTER', 'GETKEYSINSLOT', String(slot), '1')).split('\n').filter((key) => key !== '')
    if (keys.length === 0) break
    await from.cli('MIGRATE', '127.0.0.1', String(to.port), '', '0', '5000', 'REPLACE', 'KEYS', ...keys)
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
  for (const node of cluster.nodes) await node.cli('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId)
}

/** How many ASKING commands the cluster's nodes have served: each is a client following an ASK. */
async function askings (cluster: PrivateCluster): Promise<number> {
  let calls = 0
  for (const node of cluster.nodes) calls += Number(/cmdstat_asking:calls=(\d+)/.exec(await node.cli('INFO', 'commandstats'))?.[1] ?? 0)
  return calls
}

describe.skipIf(redisMissing !== '')(`fires on a Redis Cluster of 3 masters${redisMissing}`, () => {
  let cluster: PrivateCluster
  beforeAll(async () => { cluster = await privateCluster({ masters: 3 }) }, 60_000)
  afterAll(async () => { await cluster?.remove() })

  it('spreads the fires over every master, each fire on one, and serves each from every replica with a few connections per node', async () => {
    const { apps, namespace } = await replicas(cluster, 2)
    const [a, b] = apps as [TestApp, TestApp]
    const fires: NewFire[] = []
    for (let i = 0; i < 12; i++) fires.push(await createFire(i % 2 === 0 ? a : b))
    for (const [i, fire] of fires.entries()) {
      for (let n = 0; n < 3; n++) expect((await postTo(n % 2 === 0 ? a : b, fire.ingestToken, `fire ${i} line ${n}`)).statusCode).toBe(200)
    }
    for (const [i, fire] of fires.entries()) {
      const expected = [0, 1, 2].map((n) => `fire ${i} line ${n}`)
      for (const app of [a, b]) {
        expect(await readUntil(() => linesOf(app, fire), (lines) => lines.length === 3)).toEqual(expected)
        expect(await verdict(app, fire)).toMatchObject({ valid: true })
      }
    }
    // Every master holds some fires; each fire's keys are on the master of its hash tag.
    const owners = new Set<number>()
    for (const fire of fires) {
      const owner = await ownerOf(cluster, `{${namespace}:${fire.id}}:chain`)
      owners.add(owner.port)
      expect(await owner.cli('EXISTS', `{${namespace}:${fire.id}}:chain`, `{${namespace}:${fire.id}}:head`, `{${namespace}:${fire.id}}:fire`)).toBe('3')
    }
    expect(owners.size).toBe(3)
    // Following 12 fires costs each replica no connection of its own per fire.
    for (const node of cluster.nodes) {
      const mine = (await node.cli('CLIENT', 'LIST')).split('\n').filter((line) => line.includes(`name=logfire:replica-0:${namespace} `))
      expect(mine.length).toBeLessThanOrEqual(3)
    }
  })

  it('keeps every acknowledged line while the slots of busy fires move to another master: no 503, MOVED and ASK followed', async () => {
    const { apps, namespace } = await replicas(cluster, 2)
    const [a, b] = apps as [TestApp, TestApp]
    const fires: NewFire[] = []
    for (let i = 0; i < 4; i++) fires.push(await createFire(a))
    const acknowledged = new Map<string, string[]>(fires.map((fire) => [fire.id, []]))
    const statuses: number[] = []
    let moving = true
    const load = Promise.all(fires.map(async (fire, i) => {
      for (let n = 0; moving; n++) {
        const line = `fire ${i} line ${n}`
        const response = await postTo(n % 2 === 0 ? a : b, fire.ingestToken, line)
        statuses.push(response.statusCode)
        if (response.statusCode === 200) acknowledged.get(fire.id)?.push(line)
      }
    }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Each fire's slot goes to the next master, a key at a time.
    for (const fire of fires) {
      const key = `{${namespace}:${fire.id}}:chain`
      const slot = Number(await cluster.nodes[0]?.cli('CLUSTER', 'KEYSLOT', key))
      const from = await ownerOf(cluster, key)
      const masters = cluster.nodes
      const to = masters[(masters.indexOf(from) + 1) % masters.length] as ClusterNode
      await moveSlot(cluster, slot, from, to, 20)
      expect((await ownerOf(cluster, key)).port).toBe(to.port)
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    moving = false
    await load
    expect(statuses.length).toBeGreaterThan(200)
    expect(statuses.filter((status) => status !== 200)).toEqual([])
    // The replicas met the move midway, and followed it: ASK redirections, besides the MOVED after each slot.
    expect(await askings(cluster)).toBeGreaterThan(0)
    // After the move: a line posted through one replica reaches the other, and nothing acknowledged is missing or doubled.
    for (const fire of fires) {
      expect((await postTo(b, fire.ingestToken, 'after the move')).statusCode).toBe(200)
      const expected = [...acknowledged.get(fire.id) ?? [], 'after the move']
      for (const app of [a, b]) {
        const lines = await readUntil(() => linesOf(app, fire), (read) => read.length >= expected.length, 15_000)
        expect(lines).toEqual(expected)
        expect(await verdict(app, fire)).toMatchObject({ valid: true })
      }
    }
  }, 60_000)
})
