import { describe, expect, it } from 'vitest'
import { canaryLine } from '../../src/scorecard/token.js'
import { appsClosedAfterEach, post } from '../helpers.js'

const start = appsClosedAfterEach()
const lines = (run: string, ...seqs: number[]) => seqs.map((seq) => canaryLine(run, seq, 1_700_000_000_000 - 40)).join('\n')

describe('the scorecard over HTTP', () => {
  it('counts canary lines stored by every ingest route, inside JSON values too', async () => {
    const app = await start()
    await post(app, lines('http', 1, 2, 2, 4))
    await app.inject({ method: 'POST', url: '/services/collector/event', payload: JSON.stringify({ event: canaryLine('http', 5, 1_700_000_000_000) }) })
    await app.inject({ method: 'POST', url: '/api/v2/logs', payload: [{ message: canaryLine('http', 3, 1_700_000_000_000) }] })
    const report = await app.inject({ method: 'GET', url: '/scorecard/http' })
    expect(report.json()).toMatchObject({ run: 'http', delivered: 6, unique: 5, duplicates: 1, missing: 0, reordered: 1, highest: 5 })
    expect(report.json().latencyMs.max).toBe(40)
    expect((await app.inject({ method: 'GET', url: '/scorecard' })).json().runs.map((run: { run: string }) => run.run)).toEqual(['http'])
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toContain('logfire_canary_unique_lines{run="http"} 5')
    expect(metrics).toContain('logfire_canary_duplicate_lines{run="http"} 1')
  })

  it('counts lines refused with their request by status, and the chaos while a run is active', async () => {
    const app = await start({ maxEntriesPerRequest: 2 })
    expect((await app.inject({ method: 'PUT', url: '/scorecard/refused' })).statusCode).toBe(200)
    await post(app, lines('refused', 1, 2, 3))
    await post(app, `${canaryLine('refused', 4, 0)}\nshipped to eu-west-1`)
    await post(app, lines('refused', 5), { 'x-logfire-chaos': 'fire' })
    expect((await app.inject({ method: 'GET', url: '/scorecard/refused' })).json()).toMatchObject({
      delivered: 0,
      refusedLines: { 413: 3, 451: 1 },
      chaos: { 'lp0 503': 1, 'gdpr 451': 1 }
    })
  })

  it('counts the rate limit\'s 429s while a run is active', async () => {
    const app = await start({ rateLimit: 1 })
    await app.inject({ method: 'PUT', url: '/scorecard/limited' })
    expect((await post(app, lines('limited', 1))).statusCode).toBe(200)
    expect((await post(app, lines('limited', 2))).statusCode).toBe(429)
    expect((await app.inject({ method: 'GET', url: '/scorecard/limited' })).json()).toMatchObject({ unique: 1, chaos: { 'rate limit 429': 1 } })
  })

  it('answers 404 for an unknown run, 400 for a bad id, and forgets a run with the admin token only', async () => {
    const app = await start({ adminToken: 'admin' })
    await post(app, lines('gone', 1))
    expect((await app.inject({ method: 'GET', url: '/scorecard/nope' })).json()).toMatchObject({ statusCode: 404, code: 'LOGFIRE_RUN_NOT_FOUND' })
    expect((await app.inject({ method: 'GET', url: `/scorecard/${'x'.repeat(65)}` })).json()).toMatchObject({ statusCode: 400, code: 'LOGFIRE_INVALID_REQUEST' })
    expect((await app.inject({ method: 'DELETE', url: '/scorecard/gone' })).statusCode).toBe(401)
    expect((await app.inject({ method: 'DELETE', url: '/scorecard/gone', headers: { authorization: 'Bearer admin' } })).json()).toEqual({ forgotten: 'gone' })
    expect((await app.inject({ method: 'GET', url: '/scorecard/gone' })).statusCode).toBe(404)
  })

  it('needs the read token to be read when one is set, and is never on fire', async () => {
    const app = await start({ readToken: 'reader', fireRate: 1 })
    expect((await app.inject({ method: 'GET', url: '/scorecard' })).statusCode).toBe(401)
    expect((await app.inject({ method: 'GET', url: '/scorecard', headers: { authorization: 'Bearer reader' } })).statusCode).toBe(200)
  })
})
