import { describe, expect, it } from 'vitest'
import { basicPassword, bearerToken, schemeCredentials } from '../../src/http/tokens.js'
import { appsClosedAfterEach, chainEntries, type TestApp } from '../helpers.js'

const start = appsClosedAfterEach()
const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')

describe('reading credentials', () => {
  it('takes the credentials of the named scheme only, in any case', () => {
    expect(schemeCredentials('Splunk abc-123', 'Splunk')).toBe('abc-123')
    expect(schemeCredentials('splunk   abc-123 ', 'Splunk')).toBe('abc-123')
    expect(schemeCredentials('Bearer abc-123', 'Splunk')).toBeUndefined()
    expect(schemeCredentials('Splunk', 'Splunk')).toBeUndefined()
    expect(bearerToken('Bearer t0k')).toBe('t0k')
    expect(bearerToken(undefined)).toBeUndefined()
  })

  it("takes basic auth's password, which may hold colons", () => {
    expect(basicPassword(basic('12345', 'sec:ret'))).toBe('sec:ret')
    expect(basicPassword('Basic bm8tY29sb24=')).toBeUndefined()
  })
})

// Each ingest route with a body it accepts, and how its ecosystem sends the token.
const ROUTES: Array<{ name: string, url: string, body: string, ok: number, auth: (token: string) => Record<string, string> }> = [
  { name: '/logs', url: '/logs', body: '"line"', ok: 200, auth: (t) => ({ authorization: `Bearer ${t}` }) },
  { name: 'HEC', url: '/services/collector/event', body: '{"event":"line"}', ok: 200, auth: (t) => ({ authorization: `Splunk ${t}` }) },
  { name: 'HEC raw', url: '/services/collector/raw', body: 'line', ok: 200, auth: (t) => ({ authorization: `Splunk ${t}` }) },
  { name: 'Datadog', url: '/api/v2/logs', body: '["line"]', ok: 202, auth: (t) => ({ 'dd-api-key': t }) },
  { name: 'Loki (bearer)', url: '/loki/api/v1/push', body: '{"streams":[{"values":[["1","line"]]}]}', ok: 204, auth: (t) => ({ authorization: `Bearer ${t}` }) },
  { name: 'Loki (basic)', url: '/loki/api/v1/push', body: '{"streams":[{"values":[["1","line"]]}]}', ok: 204, auth: (t) => ({ authorization: basic('tenant', t) }) }
]

function send (a: TestApp, route: typeof ROUTES[number], headers: Record<string, string>) {
  return a.inject({ method: 'POST', url: route.url, payload: route.body, headers: { 'content-type': 'application/json', ...headers } })
}

describe('LOGFIRE_INGEST_TOKEN', () => {
  it.each(ROUTES)('$name: 401 without the token, 403 with a wrong one, success with the right one', async (route) => {
    const a = await start({ ingestToken: 'ingest-s3cret' })
    const missing = await send(a, route, {})
    expect(missing.statusCode).toBe(401)
    const wrong = await send(a, route, route.auth('not-the-token'))
    expect(wrong.statusCode).toBe(403)
    expect(await chainEntries(a)).toEqual([])
    expect((await send(a, route, route.auth('ingest-s3cret'))).statusCode).toBe(route.ok)
    expect(await chainEntries(a)).toEqual(['line'])
  })

  it("answers HEC clients in HEC's shape: code 2 without a token, 4 with a wrong one", async () => {
    const a = await start({ ingestToken: 'ingest-s3cret' })
    const hec = ROUTES[1] as typeof ROUTES[number]
    expect((await send(a, hec, {})).json()).toMatchObject({ text: 'Token is required', code: 2 })
    expect((await send(a, hec, { authorization: 'Bearer ingest-s3cret' })).json()).toMatchObject({ code: 2 })
    expect((await send(a, hec, hec.auth('nope'))).json()).toMatchObject({ text: 'Invalid token', code: 4, logfire: { code: 'LOGFIRE_TOKEN_INVALID' } })
  })

  it("answers the others in logfire's shape, with a challenge on 401", async () => {
    const a = await start({ ingestToken: 'ingest-s3cret' })
    const missing = await send(a, ROUTES[0] as typeof ROUTES[number], {})
    expect(missing.json()).toEqual({ statusCode: 401, code: 'LOGFIRE_TOKEN_REQUIRED', error: 'Unauthorized', message: expect.stringContaining('Bearer') })
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="logfire ingest"')
    expect((await send(a, ROUTES[3] as typeof ROUTES[number], { 'dd-api-key': 'x' })).json()).toMatchObject({ code: 'LOGFIRE_TOKEN_INVALID', errors: [{ status: '403' }] })
  })

  it('checks the token before the fire: an unauthenticated client never sees a 503', async () => {
    const a = await start({ ingestToken: 'ingest-s3cret', fireRate: 1 })
    expect((await send(a, ROUTES[0] as typeof ROUTES[number], {})).statusCode).toBe(401)
    expect((await send(a, ROUTES[0] as typeof ROUTES[number], ROUTES[0]!.auth('ingest-s3cret'))).statusCode).toBe(503)
  })

  it('leaves reads open', async () => {
    const a = await start({ ingestToken: 'ingest-s3cret' })
    expect((await a.inject({ method: 'GET', url: '/logs' })).statusCode).toBe(200)
  })
})

describe('LOGFIRE_READ_TOKEN', () => {
  it.each(['/logs', '/logs/0', '/logs/verify', '/logs/stream'])('guards GET %s', async (url) => {
    const a = await start({ readToken: 'read-s3cret' })
    expect((await a.inject({ method: 'GET', url })).statusCode).toBe(401)
    expect((await a.inject({ method: 'GET', url, headers: { authorization: 'Bearer nope' } })).statusCode).toBe(403)
  })

  it('lets the right token read, and leaves ingest open', async () => {
    const a = await start({ readToken: 'read-s3cret' })
    expect((await a.inject({ method: 'POST', url: '/logs', payload: 'line' })).statusCode).toBe(200)
    expect(await chainEntries(a, { authorization: 'Bearer read-s3cret' })).toEqual(['line'])
  })
})
