import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { describe, expect, inject } from 'vitest'
import { loadRules } from '../../src/alerts/load.js'
import { Chain } from '../../src/chain/chain.js'
import { ChainStore } from '../../src/chain/store.js'
import { canaryLine } from '../../src/scorecard/token.js'
import type { Config } from '../../src/config.js'
import { it, type Defer } from '../defer.js'
import { appForTest, chainEntries, post, readUntil, testConfig, type TestApp } from '../helpers.js'
import { redisOptions } from '../../src/chain/redis-link.js'
import { privateRedis, redisBackend, redisMissing } from '../redis-server.js'
import { openStream } from '../sse-client.js'

// Every test runs in both modes: in open mode the public fire behaves on Redis as the only fire does.
/** A test's own: its cleanups, and the LOGFIRE_FIRES mode its apps run in. */
interface Run { defer: Defer, mode: Config['fires']['mode'] }
const start = async (run: Run, overrides: Partial<Config> = {}, options: Parameters<typeof appForTest>[2] = {}) =>
  await appForTest(run.defer, { fires: { ...testConfig().fires, mode: run.mode }, ...overrides }, options)

/** Replicas: apps on one Redis namespace, as several logfire processes behind a balancer would be. */
async function replicas (run: Run, count: number, overrides: Partial<Config> = {}, url = inject('redisUrl'), namespace = `http-${randomBytes(4).toString('hex')}`): Promise<TestApp[]> {
  const apps: TestApp[] = []
  for (let i = 0; i < count; i++) apps.push(await start(run, { redis: { url, namespace, replica: `replica-${i}` }, ...overrides }))
  return apps
}

/** Two replicas on one namespace, on the real clock, with the admin token s3cret, running these rules. */
async function replicasWithRules (run: Run, rules: string): Promise<[TestApp, TestApp]> {
  const alerting = loadRules(`rules:${rules}`, 'rules.yaml')
  const namespace = `rules-${randomBytes(4).toString('hex')}`
  const a = await start(run, { redis: { url: inject('redisUrl'), namespace, replica: 'a' }, adminToken: 's3cret' }, { alerting, clock: Date.now })
  const b = await start(run, { redis: { url: inject('redisUrl'), namespace, replica: 'b' }, adminToken: 's3cret' }, { alerting, clock: Date.now })
  return [a, b]
}

const read = (app: TestApp, url = '/logs', headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers })

describe.skipIf(redisMissing !== '').each(['single', 'open'] as const)(`logfire on Redis, over HTTP, LOGFIRE_FIRES=%s${redisMissing}`, { concurrent: true }, (mode) => {
  it('answers the same chain, ETag and verdict from every replica', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicas(run, 2) as [TestApp, TestApp]
    expect((await post(a, 'one\ntwo')).statusCode).toBe(200)
    expect((await post(b, 'three')).statusCode).toBe(200)
    const fromB = await readUntil(() => read(b), (r) => r.json().length === 4)
    const fromA = await read(a)
    expect(fromA.body).toBe(fromB.body)
    expect(fromA.headers.etag).toBe(fromB.headers.etag)
    expect((await read(a, '/logs?from=2')).body).toBe((await read(b, '/logs?from=2')).body)
    expect((await read(b, '/logs', { 'if-none-match': fromA.headers.etag as string })).statusCode).toBe(304)
    expect((await read(b, '/logs/verify')).json()).toEqual((await read(a, '/logs/verify')).json())
    expect(await chainEntries(a)).toEqual(['one', 'two', 'three'])
  })

  it('keeps one scorecard across replicas: each counts the canary lines the others stored', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicas(run, 2) as [TestApp, TestApp]
    expect((await post(a, [1, 2, 3].map((seq) => canaryLine('shared', seq, 0)).join('\n'))).statusCode).toBe(200)
    expect((await post(b, [3, 4].map((seq) => canaryLine('shared', seq, 0)).join('\n'))).statusCode).toBe(200)
    for (const replica of [a, b]) {
      const report = await readUntil(() => read(replica, '/scorecard/shared'), (r) => r.statusCode === 200 && r.json().delivered === 5)
      expect(report.json()).toMatchObject({ delivered: 5, unique: 4, duplicates: 1, missing: 0 })
    }
  })

  it('meets each request number with the fate a single process gives it, whichever replica draws it', async ({ defer }) => {
    const run = { defer, mode }
    const seeded = { seed: 'replayable', fireRate: 0.4, burnRate: 0.2 }
    const [a, b] = await replicas(run, 2, seeded) as [TestApp, TestApp]
    const alone = await start(run, seeded)
    const fates = async (apps: TestApp[]) => {
      const seen: string[] = []
      for (let i = 0; i < 30; i++) {
        const response = await post(apps[i % apps.length] as TestApp, `line ${i}`)
        seen.push(`${response.headers['x-logfire-request'] as string}:${response.statusCode}`)
      }
      return seen
    }
    const shared = await fates([a, b])
    expect(shared).toEqual(await fates([alone]))
    expect(new Set(shared.map((fate) => fate.split(':')[1]))).toEqual(new Set(['200', '410', '503']))
  })

  it('shares the live settings: a change on one replica applies on the others', async ({ defer }) => {
    const run = { defer, mode }
    const namespace = `settings-${randomBytes(4).toString('hex')}`
    const [a, b] = await replicas(run, 2, { adminToken: 's3cret' }, inject('redisUrl'), namespace) as [TestApp, TestApp]
    const patch = await a.inject({ method: 'PATCH', url: '/admin/chaos', headers: { authorization: 'Bearer s3cret' }, payload: { fireRate: 1 } })
    expect(patch.statusCode).toBe(200)
    await readUntil(() => post(b, 'x'), (r) => r.statusCode === 503)
    expect((await post(b, 'x')).headers['x-logfire-settings']).toBe('fire=1; burn=0; gdpr=on; override=on')
    // A replica that starts now runs with them too, whatever its own environment says.
    const [late] = await replicas(run, 1, { fireRate: 0 }, inject('redisUrl'), namespace) as [TestApp]
    expect((await post(late, 'x')).statusCode).toBe(503)
  })

  it('keeps metrics per replica, labelled with its name', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicas(run, 2) as [TestApp, TestApp]
    await post(a, 'counted by a')
    await readUntil(() => read(b, '/logs'), (r) => r.json().length === 2)
    const metrics = async (app: TestApp) => (await read(app, '/metrics')).body
    expect(await metrics(a)).toMatch(/^logfire_blocks_appended_total\{replica="replica-0"\} 1$/m)
    expect(await metrics(b)).toMatch(/^logfire_blocks_appended_total\{replica="replica-1"\} 0$/m)
  })

  it('counts the rate limit across replicas', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicas(run, 2, { rateLimit: 4 }) as [TestApp, TestApp]
    const statuses = []
    for (const app of [a, b, a, b, a, b]) statuses.push((await post(app, 'x')).statusCode)
    expect(statuses).toEqual([200, 200, 200, 200, 429, 429])
  })

  it('shows one replica\'s blocks and burns on another\'s event stream, and resumes on a third with Last-Event-ID', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b, c] = await replicas(run, 3, { adminToken: 's3cret' }) as [TestApp, TestApp, TestApp]
    const url = await c.listen({ port: 0, host: '127.0.0.1' })
    const viewer = openStream(`${url}/logs/stream`)
    await viewer.connected()
    await post(a, 'posted to a')
    await viewer.waitForEvents(1)
    expect(viewer.events[0]).toMatchObject({ id: '0-1', event: 'block', data: { data: 'posted to a' } })
    viewer.close()

    await post(a, 'missed while away')
    const bUrl = await b.listen({ port: 0, host: '127.0.0.1' })
    const resumed = openStream(`${bUrl}/logs/stream`, { 'last-event-id': '0-1' })
    await resumed.waitForEvents(1)
    expect(resumed.events[0]).toMatchObject({ id: '0-2', event: 'block', data: { data: 'missed while away' } })

    await a.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer s3cret' } })
    await resumed.waitForEvents(2)
    expect(resumed.events[1]).toMatchObject({ event: 'burn', data: { burned: 2, reason: 'admin' } })
    resumed.close()
  })

  it('runs one scenario on every replica: "the next 6 requests" are 6 in all, whichever replica they reach', async ({ defer }) => {
    const run = { defer, mode }
    const namespace = `scenario-${randomBytes(4).toString('hex')}`
    const [a, b, c] = await replicas(run, 3, { adminToken: 's3cret', fireRate: 0.05 }, inject('redisUrl'), namespace) as [TestApp, TestApp, TestApp]
    const admin = async (app: TestApp, method: 'GET' | 'PUT' | 'POST', url: string, payload?: object) =>
      await app.inject({ method, url, headers: { authorization: 'Bearer s3cret' }, ...(payload === undefined ? {} : { payload }) })
    const url = await c.listen({ port: 0, host: '127.0.0.1' })
    const viewer = openStream(`${url}/logs/stream`)
    await viewer.connected()

    expect((await admin(a, 'PUT', '/admin/scenario', { name: 'six', steps: [{ requests: 6, chaos: 'fire' }, { pause: true, set: { fireRate: 0 } }] })).statusCode).toBe(200)
    await readUntil(() => admin(b, 'GET', '/admin/scenario'), (r) => r.json().scenario?.name === 'six')
    await readUntil(() => admin(c, 'GET', '/admin/scenario'), (r) => r.json().scenario?.name === 'six')

    // Twelve requests at once, four to each replica: six are the step's.
    const statuses = await Promise.all([a, b, c, a, b, c, a, b, c, a, b, c].map(async (app, i) => (await post(app, `line ${i}`, { 'content-type': 'text/plain' })).statusCode))
    expect(statuses.filter((status) => status === 503)).toHaveLength(6)
    expect(statuses.filter((status) => status === 200)).toHaveLength(6)

    // One replica took the sixth and moved everyone on, once: the pause step's settings reach all of them.
    await viewer.waitForEvents(1 + 6 + 6 + 1)
    const steps = viewer.events.filter((event) => event.event === 'scenario').map((event) => (event.data as { step: number }).step)
    expect(steps).toEqual([1, 2])
    for (const app of [a, b, c]) {
      const now = await readUntil(() => admin(app, 'GET', '/admin/scenario'), (r) => r.json().scenario?.step === 2)
      expect(now.json().scenario).toMatchObject({ name: 'six', step: 2, of: 2 })
    }
    await readUntil(() => admin(b, 'GET', '/admin/chaos'), (r) => r.json().fireRate === 0)

    // A replica started now joins it where it is, and stepping it on any replica ends it on all, settings restored.
    // ...even one whose LOGFIRE_SCENARIO names another.
    const late = await start(run, { redis: { url: inject('redisUrl'), namespace, replica: 'late' }, adminToken: 's3cret' }, { scenario: { name: 'own', steps: [{ pause: true }] } })
    expect((await admin(late, 'GET', '/admin/scenario')).json().scenario).toMatchObject({ name: 'six', step: 2 })
    expect((await admin(c, 'POST', '/admin/scenario/next')).json()).toMatchObject({ scenario: { step: 0, ended: true } })
    for (const app of [a, b]) await readUntil(() => admin(app, 'GET', '/admin/scenario'), (r) => r.json().scenario?.ended === true)
    await readUntil(() => admin(a, 'GET', '/admin/chaos'), (r) => r.json().fireRate === 0.05)
    viewer.close()
  })

  it('ends a timed step once for every replica: one of them claims it and moves all on', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicas(run, 2, { adminToken: 's3cret' }) as [TestApp, TestApp]
    const url = await b.listen({ port: 0, host: '127.0.0.1' })
    const viewer = openStream(`${url}/logs/stream`)
    await viewer.connected()
    await a.inject({ method: 'PUT', url: '/admin/scenario', headers: { authorization: 'Bearer s3cret' }, payload: { steps: [{ seconds: 0.3, chaos: 'fire' }, { pause: true }] } })
    await viewer.waitForEvents(2)
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(viewer.events.map((event) => [event.event, (event.data as { step: number }).step])).toEqual([['scenario', 1], ['scenario', 2]])
    for (const app of [a, b]) expect((await post(app, 'calm again')).statusCode).toBe(200)
    viewer.close()
  })

  it('counts a frequency rule\'s matches on every replica: 2 on one and 2 on the other make the threshold of 4, once', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicasWithRules(run, `
  - name: console-login-burst
    type: frequency
    threshold: 4
    withinSeconds: 60
    groupBy: $.sourceIPAddress
    description: 4 failed sign-ins from {{$.sourceIPAddress}}
    pattern: '{ $.errorMessage = "Failed authentication" }'
    severity: high
`)
    const failed = (ip: string) => JSON.stringify({ eventName: 'ConsoleLogin', errorMessage: 'Failed authentication', sourceIPAddress: ip })
    for (const app of [a, b, a, b, a]) expect((await post(app, failed('203.0.113.9'), { 'content-type': 'application/json' })).statusCode).toBe(200)
    await post(b, failed('198.51.100.7'), { 'content-type': 'application/json' })
    const alerts = (app: TestApp) => app.inject({ method: 'GET', url: '/alerts', headers: { authorization: 'Bearer s3cret' } })
    const seen = await readUntil(() => alerts(b), (r) => r.json().alerts.length > 0)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect((await alerts(a)).json().alerts).toEqual([expect.objectContaining({ rule: 'console-login-burst', group: '203.0.113.9', count: 4 })])
    expect((await alerts(b)).json().alerts).toHaveLength(1)
    expect(seen.json().alerts[0].description).toBe('4 failed sign-ins from 203.0.113.9')
  })

  it('watches a flatline over every replica: heartbeats to one keep both quiet; silence fires it once; a heartbeat to the other resolves it', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicasWithRules(run, `
  - name: shipper-went-quiet
    type: flatline
    threshold: 1
    withinSeconds: 1
    description: No heartbeat for a second
    pattern: heartbeat
    severity: high
`)
    const alerts = async (app: TestApp) => (await app.inject({ method: 'GET', url: '/alerts', headers: { authorization: 'Bearer s3cret' } })).json().alerts as Array<{ id: number, resolves?: number }>
    for (let i = 0; i < 15; i++) {
      await post(a, 'heartbeat')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect([...await alerts(a), ...await alerts(b)]).toEqual([])

    const fired = await readUntil(() => alerts(b), (list) => list.length > 0)
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(await alerts(a)).toHaveLength(1)
    expect(await alerts(b)).toHaveLength(1)

    await post(b, 'heartbeat')
    const after = await readUntil(() => alerts(a), (list) => list.length === 2)
    expect(after[0]?.resolves).toBe(fired[0]?.id)
  })

  it('shows every replica\'s alerts in GET /alerts, each entry evaluated by one replica only', async ({ defer }) => {
    const run = { defer, mode }
    const [a, b] = await replicas(run, 2, { adminToken: 's3cret' }) as [TestApp, TestApp]
    const alerts = (app: TestApp) => app.inject({ method: 'GET', url: '/alerts', headers: { authorization: 'Bearer s3cret' } })
    const rootLogin = JSON.stringify({ eventName: 'ConsoleLogin', userIdentity: { type: 'Root' }, eventType: 'AwsConsoleSignIn', responseElements: { ConsoleLogin: 'Success' } })
    expect((await post(a, rootLogin, { 'content-type': 'application/json' })).statusCode).toBe(200)
    const onB = await readUntil(() => alerts(b), (r) => r.json().alerts.length > 0)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const onA = await alerts(a)
    expect(onA.json().alerts).toEqual(onB.json().alerts)
    // Had both replicas run the rules over the entry, each rule would be there twice.
    const rules = (onA.json().alerts as Array<{ rule: string }>).map((alert) => alert.rule)
    expect(new Set(rules).size).toBe(rules.length)
  })
})

describe.skipIf(redisMissing !== '')(`when Redis goes away${redisMissing}`, () => {
  it('notices when Redis lost acknowledged blocks (a failover without LOGFIRE_REDIS_WAIT): every replica reloads from it, counts the loss, and goes on', async ({ defer }) => {
    const run: Run = { defer, mode: 'single' }
    const namespace = `lost-${randomBytes(4).toString('hex')}`
    const [a, b] = await replicas(run, 2, {}, inject('redisUrl'), namespace) as [TestApp, TestApp]
    expect((await post(a, 'kept')).statusCode).toBe(200)
    expect((await post(a, 'acknowledged, then lost')).statusCode).toBe(200)
    await readUntil(() => chainEntries(b), (entries) => entries.length === 2)
    // What a promoted replica that never got the last append looks like: Redis one entry short.
    const redis = new Redis(redisOptions(inject('redisUrl')))
    try {
      const blocks = (await read(a)).json<Array<{ hash: string }>>()
      const entries = await redis.xrange(`{${namespace}}:chain`, '-', '+')
      const [lastId] = entries.at(-1) as [string, string[]]
      const [previousId] = entries.at(-2) as [string, string[]]
      await redis.xdel(`{${namespace}}:chain`, lastId)
      await redis.xsetid(`{${namespace}}:chain`, previousId)
      await redis.hset(`{${namespace}}:head`, 'length', 2, 'hash', blocks[1]?.hash ?? '')
    } finally {
      await redis.quit()
    }
    // B appends: Redis's head is behind its copy, so B reloads, then appends; A learns it from B's tick.
    expect((await post(b, 'after')).statusCode).toBe(200)
    for (const app of [a, b]) {
      expect(await readUntil(() => chainEntries(app), (entries) => entries.at(-1) === 'after' && entries.length === 2)).toEqual(['kept', 'after'])
      expect((await read(app, '/logs/verify')).json()).toMatchObject({ valid: true })
      expect((await read(app, '/metrics')).body).toMatch(/^logfire_redis_lost_blocks_total\{[^}]*\} 1$/m)
    }
  })

  it('says so in the log once per outage, not once per request', async () => {
    const redis = await privateRedis()
    const said: string[] = []
    const backend = await redisBackend({ url: redis.url, namespace: 'outage', store: new ChainStore(), limits: { maxBlocks: 100, maxBytes: 1e6 }, log: (_level, _fields, message) => { said.push(message) } })
    const chain = new Chain(backend)
    try {
      await redis.stop()
      for (let i = 0; i < 20; i++) await Promise.resolve(chain.nextRequestNumber()).catch(() => {})
      await readUntil(async () => said.length, (n) => n >= 1)
      await redis.start()
      await readUntil(async () => chain.available, (up) => up, 10_000)
      expect(said).toEqual(['redis unreachable: answering 503 until it is back', 'redis reachable again'])
    } finally {
      await chain.close()
      await redis.remove()
    }
  })

  it('answers 503 LOGFIRE_STORE_UNAVAILABLE, keeps /healthz, fails /readyz, and comes back by itself with nothing half-stored', async ({ defer }) => {
    const run: Run = { defer, mode: 'single' }
    const redis = await privateRedis({ appendonly: true })
    try {
      const [a] = await replicas(run, 1, { adminToken: 's3cret' }, redis.url) as [TestApp]
      expect((await post(a, 'before')).statusCode).toBe(200)
      expect((await read(a, '/readyz')).statusCode).toBe(200)

      await redis.stop()
      const during = await readUntil(() => post(a, 'during'), (r) => r.statusCode === 503)
      expect(during.json()).toMatchObject({ statusCode: 503, code: 'LOGFIRE_STORE_UNAVAILABLE' })
      expect(during.headers['retry-after']).toBe('1')
      expect((await read(a)).json()).toMatchObject({ code: 'LOGFIRE_STORE_UNAVAILABLE' })
      expect((await read(a, '/readyz')).json()).toMatchObject({ statusCode: 503, code: 'LOGFIRE_STORE_UNAVAILABLE' })
      expect((await read(a, '/healthz')).statusCode).toBe(200)
      // The admin routes too: their rate limit lets them by, and the chain answers.
      const burn = await a.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer s3cret' } })
      expect(burn.json()).toMatchObject({ statusCode: 503, code: 'LOGFIRE_STORE_UNAVAILABLE' })
      const patch = await a.inject({ method: 'PATCH', url: '/admin/chaos', headers: { authorization: 'Bearer s3cret' }, payload: { fireRate: 1 } })
      expect(patch.json()).toMatchObject({ statusCode: 503, code: 'LOGFIRE_STORE_UNAVAILABLE' })

      await redis.start()
      await readUntil(() => read(a, '/readyz'), (r) => r.statusCode === 200, 10_000)
      expect((await post(a, 'after')).statusCode).toBe(200)
      expect(await chainEntries(a)).toEqual(['before', 'after'])
      expect((await a.inject({ method: 'GET', url: '/admin/chaos', headers: { authorization: 'Bearer s3cret' } })).json()).toMatchObject({ fireRate: 0 })
      expect((await read(a, '/logs/verify')).json()).toMatchObject({ valid: true })
    } finally {
      await redis.remove()
    }
  })

  it('stopped mid-load and started again: every request is stored whole or not at all, every 200 is there once, and service resumes', async ({ defer }) => {
    const run: Run = { defer, mode: 'single' }
    const redis = await privateRedis({ appendonly: true })
    try {
      const [a, b] = await replicas(run, 2, {}, redis.url) as [TestApp, TestApp]
      const outcomes = new Map<number, number>()
      let n = 0
      const load = { running: true }
      const client = async () => {
        while (load.running) {
          const id = n++
          const response = await post(id % 2 === 0 ? a : b, `r${id} one\nr${id} two\nr${id} three`)
          outcomes.set(id, response.statusCode)
          if (response.statusCode === 503) expect(response.json().code).toMatch(/^LOGFIRE_(STORE_UNAVAILABLE|LP0_ON_FIRE)$/)
          // An injected 503 can complete without leaving the microtask
          // queue: yield, or the timers of this test never run.
          await new Promise((resolve) => setImmediate(resolve))
        }
      }
      const clients = Array.from({ length: 6 }, client)
      try {
        await new Promise((resolve) => setTimeout(resolve, 150))
        await redis.stop()
        await new Promise((resolve) => setTimeout(resolve, 300))
        await redis.start()
        await readUntil(async () => a.inject({ method: 'GET', url: '/readyz' }), (r) => r.statusCode === 200, 10_000)
        await readUntil(async () => b.inject({ method: 'GET', url: '/readyz' }), (r) => r.statusCode === 200, 10_000)
        await new Promise((resolve) => setTimeout(resolve, 150))
      } finally {
        load.running = false
        await Promise.all(clients)
      }

      const statuses = [...outcomes.values()]
      expect(statuses.filter((status) => status === 503).length).toBeGreaterThan(0)
      expect(statuses.filter((status) => status === 200).length).toBeGreaterThan(10)
      const fromA = await readUntil(() => read(a), (r) => r.body === '' ? false : r.json().length > 1)
      await readUntil(() => read(b), (r) => r.body === fromA.body)
      const stored = (fromA.json() as Array<{ data: string }>).slice(1).map((block) => block.data)
      const byRequest = new Map<string, string[]>()
      for (const line of stored) {
        const id = line.split(' ')[0] as string
        byRequest.set(id, [...(byRequest.get(id) ?? []), line])
      }
      // Whole or nothing, in order, never twice.
      for (const [id, lines] of byRequest) expect(lines).toEqual([`${id} one`, `${id} two`, `${id} three`])
      for (const [id, status] of outcomes) if (status === 200) expect(byRequest.has(`r${id}`)).toBe(true)
      expect((await read(a, '/logs/verify')).json()).toMatchObject({ valid: true })
      expect((await post(b, 'after')).statusCode).toBe(200)
    } finally {
      await redis.remove()
    }
  })
})
