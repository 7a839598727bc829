import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { privateCluster, type ClusterNode, type PrivateCluster } from '../scripts/lib/redis-cluster.js'
import type { Config } from '../src/config.js'
import { appsClosedAfterEach, readUntil, testConfig, type TestApp } from './helpers.js'
import { redisMissing } from './redis-server.js'

const start = appsClosedAfterEach()

interface NewFire { id: string, ingestToken: string, viewToken: string }

/** Replicas in open mode on a namespace of their own, on the cluster. */
async function replicas (cluster: PrivateCluster, count: number, overrides: Partial<Config> = {}, waitReplicas = 0): Promise<{ apps: TestApp[], namespace: string }> {
  const namespace = `cl-${randomBytes(4).toString('hex')}`
  const apps: TestApp[] = []
  for (let i = 0; i < count; i++) {
    apps.push(await start({
      redis: { cluster: cluster.seeds, namespace, replica: `replica-${i}`, waitReplicas },
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

/** A key's slot, from any node that answers. */
async function slotOf (cluster: PrivateCluster, key: string): Promise<number> {
  for (const node of cluster.nodes) {
    const slot = await node.cli('CLUSTER', 'KEYSLOT', key).catch(() => '')
    if (slot !== '') return Number(slot)
  }
  throw new Error('no node answers')
}

/** The master that serves a key's slot now. */
async function ownerOf (cluster: PrivateCluster, key: string): Promise<ClusterNode> {
  const slot = await slotOf(cluster, key)
  for (const node of cluster.nodes) {
    // A node that is down serves nothing.
    const mine = (await node.cli('CLUSTER', 'NODES').catch(() => '')).split('\n').find((line) => line.includes('myself'))
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

interface Answer { fire: number, via: number, line: string, status: number, code?: string, retryAfter?: string, ms: number, at: number }

/** Lines posted to every fire, through both replicas in turn, until told to stop: every answer, timed. */
function loadOf (apps: TestApp[], fires: NewFire[], paceMs = 5) {
  const answers: Answer[] = []
  const control = { running: true }
  const done = Promise.all(fires.map(async (fire, i) => {
    for (let n = 0; control.running; n++) {
      const via = n % apps.length
      const line = `fire ${i} line ${n}`
      const began = Date.now()
      const response = await postTo(apps[via] as TestApp, fire.ingestToken, line)
      const answer: Answer = { fire: i, via, line, status: response.statusCode, ms: Date.now() - began, at: began }
      if (response.statusCode !== 200) Object.assign(answer, { code: response.json<{ code: string }>().code, retryAfter: response.headers['retry-after'] })
      answers.push(answer)
      // Paced: a few hundred lines a second, so that the chains stay readable.
      if (paceMs > 0) await new Promise((resolve) => setTimeout(resolve, paceMs))
    }
  }))
  return {
    answers,
    stop: async () => {
      control.running = false
      await done
    }
  }
}

/** The master holding the part of the fires' count (LOGFIRE_MAX_FIRES) that counts this fire. */
async function countPartOwner (cluster: PrivateCluster, namespace: string, id: string): Promise<ClusterNode> {
  for (let part = 0; part < 16; part++) {
    const owner = await ownerOf(cluster, `${namespace}:alight:${part}`)
    if (await owner.cli('ZSCORE', `${namespace}:alight:${part}`, id) !== '') return owner
  }
  throw new Error(`fire ${id} is in no part of the count`)
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
    // Fires until every master holds some: their ids are random.
    const fires: NewFire[] = []
    const owners = new Set<number>()
    while (owners.size < 3 && fires.length < 60) {
      const fire = await createFire(fires.length % 2 === 0 ? a : b)
      fires.push(fire)
      owners.add((await ownerOf(cluster, `{${namespace}:${fire.id}}:chain`)).port)
    }
    expect(owners.size).toBe(3)
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
    // Each fire's keys are all on the master of its hash tag.
    for (const fire of fires) {
      const owner = await ownerOf(cluster, `{${namespace}:${fire.id}}:chain`)
      expect(await owner.cli('EXISTS', `{${namespace}:${fire.id}}:chain`, `{${namespace}:${fire.id}}:head`, `{${namespace}:${fire.id}}:fire`)).toBe('3')
    }
    // Following every fire costs each replica no connection of its own per fire.
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
    // As fast as the replicas go: every moment of the move meets requests.
    const load = loadOf([a, b], fires, 0)
    onTestFinished(async () => { await load.stop() })
    await new Promise((resolve) => setTimeout(resolve, 300))
    // Each fire's slot goes to the next master, a key at a time.
    for (const fire of fires) {
      const key = `{${namespace}:${fire.id}}:chain`
      const slot = await slotOf(cluster, key)
      const from = await ownerOf(cluster, key)
      const masters = cluster.nodes
      const to = masters[(masters.indexOf(from) + 1) % masters.length] as ClusterNode
      await moveSlot(cluster, slot, from, to, 20)
      expect((await ownerOf(cluster, key)).port).toBe(to.port)
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    await load.stop()
    expect(load.answers.length).toBeGreaterThan(200)
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([])
    // The replicas met the move midway, and followed it: ASK redirections, besides the MOVED after each slot.
    expect(await askings(cluster)).toBeGreaterThan(0)
    // After the move: a line posted through one replica reaches the other, and nothing acknowledged is missing or doubled.
    for (const [i, fire] of fires.entries()) {
      expect((await postTo(b, fire.ingestToken, 'after the move')).statusCode).toBe(200)
      const expected = [...load.answers.filter((answer) => answer.fire === i).map((answer) => answer.line), 'after the move']
      for (const app of [a, b]) {
        const lines = await readUntil(() => linesOf(app, fire), (read) => read.length >= expected.length, 15_000)
        expect(lines).toEqual(expected)
        expect(await verdict(app, fire)).toMatchObject({ valid: true })
      }
    }
  }, 60_000)
})

const lostBlocks = async (app: TestApp) => Number(/^logfire_redis_lost_blocks_total\{[^}]*\} (\d+)/m.exec((await app.inject({ url: '/metrics' })).body)?.[1] ?? NaN)

describe.skipIf(redisMissing !== '')(`a master of a Redis Cluster killed while its fires take writes${redisMissing}`, () => {
  let cluster: PrivateCluster | undefined
  afterEach(async () => { await cluster?.remove() })

  it.each([0, 1])('LOGFIRE_REDIS_WAIT=%i: its fires answer 503 with Retry-After until its replica takes over, the others go on, /readyz says partial, and no acknowledged line is lost unseen', async (waitReplicas) => {
    const running = await privateCluster({ masters: 3, replicas: 1 })
    cluster = running
    const { apps, namespace } = await replicas(running, 2, {}, waitReplicas)
    const [a, b] = apps as [TestApp, TestApp]
    const fires: NewFire[] = []
    for (let i = 0; i < 6; i++) fires.push(await createFire(a))
    const owners = await Promise.all(fires.map(async (fire) => (await ownerOf(running, `{${namespace}:${fire.id}}:chain`)).port))
    const victim = running.nodes.find((node) => node.port === owners[0]) as ClusterNode
    const onVictim = new Set(fires.flatMap((_, i) => owners[i] === victim.port ? [i] : []))
    // A fire on a master that stays up, whose part of the fires' count is on the victim, not used before the kill.
    let late: NewFire | undefined
    for (let tries = 0; late === undefined && tries < 60; tries++) {
      const fire = await createFire(a)
      if ((await ownerOf(running, `{${namespace}:${fire.id}}:chain`)).port !== victim.port && (await countPartOwner(running, namespace, fire.id)).port === victim.port) late = fire
    }
    if (late === undefined) throw new Error('no fire with its count on the victim')

    const load = loadOf([a, b], fires)
    onTestFinished(async () => { await load.stop() })
    await new Promise((resolve) => setTimeout(resolve, 500))
    const killedAt = Date.now()
    victim.kill()
    // /readyz watched on its own, every 10 ms until the failover: asking the
    // nodes who owns a slot takes a redis-cli per node, seconds on a loaded
    // machine, and the partial state can come and go between two of those.
    let partial: unknown
    const failedOver = new AbortController()
    const readiness = (async () => {
      while (!failedOver.signal.aborted) {
        const ready = (await a.inject({ url: '/readyz' })).json<{ status: string }>()
        if (ready.status === 'partial') partial ??= ready
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    // Its first use anywhere but where it was created, with the victim gone: the fire is whole on its own node.
    expect((await postTo(b, late.ingestToken, 'first use after the kill')).statusCode).toBe(200)
    // The victim's replica takes over: its slots get a new master.
    await readUntil(async () => (await ownerOf(running, `{${namespace}:${fires[0]?.id ?? ''}}:chain`).catch(() => victim)).port, (port) => port !== victim.port, 30_000)
      .finally(() => { failedOver.abort() })
    await readiness
    const failedOverAt = Date.now()
    // With WAIT, the new master has no replica of its own: its fires stay 503 until the old master is back, as its replica.
    if (waitReplicas > 0) {
      await victim.start()
      await readUntil(() => victim.cli('INFO', 'replication'), (info) => info.includes('master_link_status:up'), 30_000)
    }
    const back = await readUntil(async () => load.answers.find((answer) => onVictim.has(answer.fire) && answer.at > failedOverAt && answer.status === 200), (found) => found !== undefined, 30_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    await load.stop()

    // Never a 500, never a hang: a 503 LOGFIRE_STORE_UNAVAILABLE with Retry-After, on the victim's fires alone.
    const refused = load.answers.filter((answer) => answer.status !== 200)
    expect(refused.length).toBeGreaterThan(0)
    for (const answer of refused) expect(answer).toMatchObject({ status: 503, code: 'LOGFIRE_STORE_UNAVAILABLE', retryAfter: '1' })
    expect(refused.filter((answer) => !onVictim.has(answer.fire))).toEqual([])
    expect(Math.max(...load.answers.map((answer) => answer.ms))).toBeLessThan(5000)
    expect(partial).toEqual({ status: 'partial', masters: 3, unreachableMasters: 1 })
    // The failover takes about the cluster's node timeout, and a little more for the vote.
    expect(failedOverAt - killedAt).toBeLessThan(running.nodeTimeoutMs * 5)
    console.info(`LOGFIRE_REDIS_WAIT=${waitReplicas}: failed over ${failedOverAt - killedAt} ms after the kill (cluster-node-timeout ${running.nodeTimeoutMs} ms); the victim's fires answered 503 until ${(back?.at ?? NaN) - killedAt} ms; ${refused.length} answers 503`)

    // Every acknowledged line is in the chain on both replicas once, or its loss is counted by the replica that acknowledged it.
    const lost = [0, 0]
    for (const [i, fire] of fires.entries()) {
      const acknowledged = load.answers.filter((answer) => answer.fire === i && answer.status === 200)
      for (const app of [a, b]) {
        const last = acknowledged.at(-1)?.line
        const lines = await readUntil(() => linesOf(app, fire), (read) => last === undefined || read.includes(last), 15_000)
        expect(await verdict(app, fire)).toMatchObject({ valid: true })
        expect(new Set(lines).size).toBe(lines.length)
        for (const answer of acknowledged) if (!lines.includes(answer.line) && app === a) lost[answer.via] = (lost[answer.via] ?? 0) + 1
      }
    }
    const counted = [await lostBlocks(a), await lostBlocks(b)]
    console.info(`LOGFIRE_REDIS_WAIT=${waitReplicas}: acknowledged and lost through each replica ${JSON.stringify(lost)}, counted ${JSON.stringify(counted)}`)
    if (waitReplicas > 0) expect(lost).toEqual([0, 0])
    else for (const via of [0, 1]) expect(lost[via]).toBeLessThanOrEqual(counted[via] as number)
  }, 90_000)
})
