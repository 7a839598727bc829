import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { appsClosedAfterEach, testConfig, type TestApp } from '../helpers.js'

const build = appsClosedAfterEach()

const open = (overrides: Record<string, unknown> = {}) => ({
  fires: { ...testConfig().fires, mode: 'open' as const, createRateLimit: 0, ...overrides }
})

interface NewFire { id: string, ingestToken: string, viewToken: string, adminToken: string, page: string, expiresAt: string }

async function createFire (app: TestApp): Promise<NewFire> {
  const response = await app.inject({ method: 'POST', url: '/fires', headers: { host: 'logfire.test' } })
  expect(response.statusCode).toBe(201)
  return response.json()
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe('open mode: a fire of one\'s own', () => {
  it('creates a fire in one request, with prefixed tokens of 192 bits and a page holding the view token in its fragment', async () => {
    const app = await build(open())
    const response = await app.inject({ method: 'POST', url: '/fires', headers: { host: 'logfire.test' } })
    expect(response.statusCode).toBe(201)
    expect(response.headers['cache-control']).toBe('no-store')
    const fire = response.json<NewFire>()
    // The prefix, the fire's id, then 192 random bits.
    expect(fire.ingestToken).toMatch(new RegExp(`^lf_ing_${fire.id}[\\w-]{32}$`))
    expect(fire.viewToken).toMatch(new RegExp(`^lf_view_${fire.id}[\\w-]{32}$`))
    expect(fire.adminToken).toMatch(new RegExp(`^lf_adm_${fire.id}[\\w-]{32}$`))
    expect(fire.page).toBe(`http://logfire.test/f/${fire.id}#${fire.viewToken}`)
    expect(Date.parse(fire.expiresAt)).toBe(1_700_000_000_000 + 86_400_000)
  })

  it('keeps each fire\'s chain apart from the public fire\'s and from every other', async () => {
    const app = await build(open())
    const a = await createFire(app)
    const b = await createFire(app)
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'to a', headers: bearer(a.ingestToken) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'to the public fire' })).statusCode).toBe(200)
    const read = async (headers: Record<string, string> = {}) => (await app.inject({ url: '/logs', headers })).json<Array<{ data: string }>>().map((block) => block.data)
    expect(await read(bearer(a.viewToken))).toEqual(['my genesis block!!', 'to a'])
    expect(await read(bearer(b.viewToken))).toEqual(['my genesis block!!'])
    expect(await read()).toEqual(['my genesis block!!', 'to the public fire'])
  })

  it('gives each token its scope alone, and one identical 401 for a token unknown or of the wrong scope', async () => {
    const app = await build(open())
    const fire = await createFire(app)
    const answers = [
      await app.inject({ url: '/logs', headers: bearer(fire.ingestToken) }),
      await app.inject({ method: 'POST', url: '/logs', payload: 'x', headers: bearer(fire.viewToken) }),
      await app.inject({ method: 'PATCH', url: '/admin/chaos', payload: { fireRate: 1 }, headers: bearer(fire.viewToken) }),
      await app.inject({ url: '/logs', headers: bearer('lf_view_' + 'A'.repeat(48)) }),
      await app.inject({ url: '/alerts', headers: bearer(fire.adminToken) })
    ]
    for (const answer of answers) {
      expect(answer.statusCode).toBe(401)
      expect(answer.json()).toEqual(answers[0]?.json())
      expect(answer.headers['www-authenticate']).toBe(answers[0]?.headers['www-authenticate'])
    }
  })

  it('lets a fire\'s admin token run that fire\'s chaos, and no other\'s', async () => {
    const app = await build(open())
    const a = await createFire(app)
    const b = await createFire(app)
    const patched = await app.inject({ method: 'PATCH', url: '/admin/chaos', payload: { fireRate: 1 }, headers: bearer(a.adminToken) })
    expect(patched.statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'x', headers: bearer(a.ingestToken) })).statusCode).toBe(503)
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'x', headers: bearer(b.ingestToken) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'x' })).statusCode).toBe(200)
    // Without LOGFIRE_ADMIN_TOKEN the public fire has no controls at all.
    expect((await app.inject({ method: 'DELETE', url: '/logs', headers: bearer(a.adminToken) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'DELETE', url: '/logs' })).statusCode).toBe(404)
  })

  it('numbers each fire\'s requests from 1 with its own seed, so replay holds per fire', async () => {
    const app = await build(open())
    const a = await createFire(app)
    await app.inject({ method: 'POST', url: '/logs', payload: 'x' })
    await app.inject({ method: 'POST', url: '/logs', payload: 'x' })
    const first = await app.inject({ method: 'POST', url: '/logs', payload: 'x', headers: bearer(a.ingestToken) })
    expect(first.headers['x-logfire-request']).toBe('1')
    expect(first.headers['x-logfire-seed']).not.toBe('test')
  })

  it('carries the token in each shipper\'s own slot: Splunk, DD-API-KEY, Basic\'s password, ApiKey', async () => {
    const app = await build(open())
    const fire = await createFire(app)
    const basic = Buffer.from(`anyone:${fire.ingestToken}`).toString('base64')
    const sent = [
      await app.inject({ method: 'POST', url: '/services/collector/event', payload: { event: 'hec' }, headers: { authorization: `Splunk ${fire.ingestToken}` } }),
      await app.inject({ method: 'POST', url: '/api/v2/logs', payload: [{ message: 'datadog' }], headers: { 'dd-api-key': fire.ingestToken } }),
      await app.inject({ method: 'POST', url: '/loki/api/v1/push', payload: { streams: [{ stream: {}, values: [['1', 'loki']] }] }, headers: { authorization: `Basic ${basic}` } }),
      await app.inject({ method: 'POST', url: '/_bulk', payload: '{"index":{"_index":"logs"}}\n{"message":"es"}\n', headers: { authorization: `ApiKey ${fire.ingestToken}`, 'content-type': 'application/x-ndjson' } })
    ]
    expect(sent.map((answer) => answer.statusCode)).toEqual([200, 202, 204, 200])
    const chain = (await app.inject({ url: '/logs', headers: bearer(fire.viewToken) })).json<unknown[]>()
    expect(chain).toHaveLength(5)
    expect((await app.inject({ url: '/logs' })).json<unknown[]>()).toHaveLength(1)
  })

  it('answers a fire\'s reads privately, with an ETag of that fire alone', async () => {
    const app = await build(open())
    const a = await createFire(app)
    const b = await createFire(app)
    const readA = await app.inject({ url: '/logs', headers: bearer(a.viewToken) })
    const readB = await app.inject({ url: '/logs', headers: bearer(b.viewToken) })
    expect(readA.headers['cache-control']).toBe('private, no-store')
    expect(readA.headers.etag).not.toBe(readB.headers.etag)
    const again = await app.inject({ url: '/logs', headers: { ...bearer(b.viewToken), 'if-none-match': String(readA.headers.etag) } })
    expect(again.statusCode).toBe(200)
  })

  it('refuses a fire past LOGFIRE_MAX_FIRES without naming the limit, and puts out idle fires', async () => {
    let now = 1_700_000_000_000
    const app = await build(open({ maxFires: 2, idleMs: 60_000 }), { clock: () => now })
    const first = await createFire(app)
    await createFire(app)
    const full = await app.inject({ method: 'POST', url: '/fires' })
    expect(full.statusCode).toBe(503)
    expect(full.json()).toMatchObject({ code: 'LOGFIRE_FIRES_FULL' })
    expect(full.body).not.toContain('2')
    now += 30_000
    expect((await app.inject({ url: '/logs', headers: bearer(first.viewToken) })).statusCode).toBe(200)
    now += 45_000
    // The first was used 45 s ago, the second 75 s ago: it went out, and made room.
    expect((await app.inject({ url: '/logs', headers: bearer(first.viewToken) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'POST', url: '/fires' })).statusCode).toBe(201)
    now += 61_000
    expect((await app.inject({ url: '/logs', headers: bearer(first.viewToken) })).statusCode).toBe(401)
  })

  it('limits how many fires one client creates a minute', async () => {
    const app = await build(open({ createRateLimit: 2 }))
    const answers = []
    for (let i = 0; i < 3; i++) answers.push(await app.inject({ method: 'POST', url: '/fires' }))
    expect(answers.map((answer) => answer.statusCode)).toEqual([201, 201, 429])
    // The rate-limit headers are the 429's alone.
    expect(answers.map((answer) => answer.headers['x-ratelimit-remaining'])).toEqual([undefined, undefined, '0'])
  })

  it('limits one fire\'s requests a minute, all its clients together, apart from the public fire\'s', async () => {
    const app = await build({ ...open({ rateLimit: 2 }), rateLimit: 0 })
    const fire = await createFire(app)
    const statuses = []
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) {
      statuses.push((await app.inject({ method: 'POST', url: '/logs', payload: 'x', headers: bearer(fire.ingestToken), remoteAddress: address })).statusCode)
    }
    expect(statuses).toEqual([200, 200, 429])
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'x' })).statusCode).toBe(200)
  })

  it('burns a fire that outgrows LOGFIRE_FIRE_MAX_BYTES, and that fire alone', async () => {
    const app = await build(open({ maxBytes: 64 * 1024 }))
    const fire = await createFire(app)
    await app.inject({ method: 'POST', url: '/logs', payload: 'public' })
    const line = 'x'.repeat(40_000)
    expect((await app.inject({ method: 'POST', url: '/logs', payload: line, headers: bearer(fire.ingestToken) })).statusCode).toBe(200)
    const burned = await app.inject({ method: 'POST', url: '/logs', payload: line, headers: bearer(fire.ingestToken) })
    expect(burned.statusCode).toBe(410)
    expect(burned.json()).toMatchObject({ reason: 'memory budget' })
    expect((await app.inject({ url: '/logs' })).json<unknown[]>()).toHaveLength(2)
  })

  it('has no POST /fires in single mode', async () => {
    const app = await build()
    expect((await app.inject({ method: 'POST', url: '/fires' })).statusCode).toBe(404)
  })
})

describe('open mode\'s configuration', () => {
  it('sets the created fires\' budgets aside from the chain\'s, and says so when they do not fit', () => {
    const config = loadConfig({ LOGFIRE_FIRES: 'open', LOGFIRE_MAX_FIRES: '10', LOGFIRE_FIRE_MAX_BYTES: String(1024 * 1024), LOGFIRE_MAX_CHAIN_BYTES: String(64 * 1024 * 1024) })
    expect(config.memory.maxChainBytes).toBe(54 * 1024 * 1024)
    expect(() => loadConfig({ LOGFIRE_FIRES: 'open', LOGFIRE_MAX_FIRES: '100', LOGFIRE_MAX_CHAIN_BYTES: String(64 * 1024 * 1024) })).toThrow(/LOGFIRE_MAX_FIRES .*LOGFIRE_FIRE_MAX_BYTES.*LOGFIRE_MAX_CHAIN_BYTES/)
    expect(loadConfig({ LOGFIRE_FIRES: 'open', LOGFIRE_REDIS_URL: 'redis://127.0.0.1:6379' }).fires.mode).toBe('open')
    expect(() => loadConfig({ LOGFIRE_FIRES: 'many' })).toThrow(/LOGFIRE_FIRES must be single or open/)
  })
})
