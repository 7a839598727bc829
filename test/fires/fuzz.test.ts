import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, testConfig, type TestApp } from '../helpers.js'

const SEED = 20261206

// A route of each kind: ingest in each ecosystem, reads, a fire's controls, the operator's.
const ROUTES = [
  { method: 'POST', url: '/logs', payload: 'a line' },
  { method: 'POST', url: '/services/collector/event', payload: '{"event":"e"}' },
  { method: 'POST', url: '/api/v2/logs', payload: '[{"message":"m"}]' },
  { method: 'POST', url: '/loki/api/v1/push', payload: '{"streams":[]}' },
  { method: 'POST', url: '/_bulk', payload: '{"index":{"_index":"i"}}\n{}\n' },
  { method: 'POST', url: '/v1/logs', payload: '{}' },
  { method: 'GET', url: '/logs' },
  { method: 'GET', url: '/logs/verify' },
  { method: 'GET', url: '/scorecard' },
  { method: 'PATCH', url: '/admin/chaos', payload: '{"fireRate":0}' },
  { method: 'DELETE', url: '/logs' },
  { method: 'GET', url: '/alerts' },
  { method: 'GET', url: '/metrics' },
  { method: 'POST', url: '/fires' },
  { method: 'GET', url: '/' }
] as const

const SLOTS = ['Bearer', 'Splunk', 'ApiKey', 'Basic', 'dd-api-key', 'raw'] as const

/** Tokens a stranger might send: near misses of real ones, hostile bytes, nothing at all. */
const token = fc.oneof(
  fc.constantFrom('lf_', 'lf_ing_', 'lf_view_', 'lf_adm_', 'lf_ing_' + 'A'.repeat(48), 'LF_ING_x').chain((prefix) => fc.string({ maxLength: 64 }).map((rest) => prefix + rest)),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constant('lf_ing_' + 'x'.repeat(5000))
)

const headerValue = (value: string): string => value.replace(/[^\t\x20-\x7e]/g, '?')

describe('fuzzing the token slots of every kind of route, and POST /fires (fixed sample)', () => {
  let app: TestApp
  beforeAll(async () => {
    app = await buildTestApp({ fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0, maxFires: 50 } })
  })
  afterAll(async () => { await app.close() })

  it('never answers 500, and every lf_ token it does not know, in any slot, is one 401: 1,500 requests', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...ROUTES), fc.constantFrom(...SLOTS), token, async (route, slot, value) => {
      const sent = headerValue(value)
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (slot === 'dd-api-key') headers['dd-api-key'] = sent
      else if (slot === 'raw') headers.authorization = sent
      else if (slot === 'Basic') headers.authorization = `Basic ${Buffer.from(`u:${value}`).toString('base64')}`
      else headers.authorization = `${slot} ${sent}`
      const answer = await app.inject({ method: route.method, url: route.url, headers, ...('payload' in route ? { payload: route.payload } : {}) })
      // A 503 is the chaos or a full house, never a 500.
      expect(answer.statusCode === 500 || answer.statusCode > 503).toBe(false)
      const presented = slot === 'Basic' ? value : sent
      // Without a scheme, Authorization holds no token a shipper would send.
      if (slot !== 'raw' && presented.trim().startsWith('lf_')) expect(answer.statusCode).toBe(401)
    }), { seed: SEED, numRuns: 1500 })
    expect((await app.inject({ url: '/logs/verify' })).json()).toMatchObject({ valid: true })
  })

  it('creates fires whatever else the request holds (headers, a body, a query), up to the limit: 200 requests', async () => {
    await fc.assert(fc.asyncProperty(fc.string({ maxLength: 2000 }), fc.dictionary(fc.stringMatching(/^x-[a-z]{1,10}$/), fc.string({ maxLength: 50 }).map(headerValue)), fc.constantFrom('', '?x=1', '?token=lf_adm_x'), async (body, extra, query) => {
      const answer = await app.inject({ method: 'POST', url: `/fires${query}`, headers: { ...extra, 'content-type': 'text/plain' }, payload: body })
      expect([201, 503]).toContain(answer.statusCode)
      if (answer.statusCode === 503) expect(answer.json()).toMatchObject({ code: 'LOGFIRE_FIRES_FULL' })
    }), { seed: SEED, numRuns: 200 })
  })
})
