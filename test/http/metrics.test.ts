import { describe, expect, it } from 'vitest'
import { appsClosedAfterEach, post, type TestApp } from '../helpers.js'

const start = appsClosedAfterEach()

async function scrape (a: TestApp) {
  const response = await a.inject({ method: 'GET', url: '/metrics' })
  expect(response.statusCode).toBe(200)
  const text = response.body
  /** The value of one series, 0 when it does not exist yet. */
  return (name: string, labels: Record<string, string> = {}): number => {
    const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`)
    for (const line of text.split('\n')) {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (match === null || match[1] !== name) continue
      const present = (match[2] ?? '').split(',')
      if (wanted.every((label) => present.includes(label))) return Number(match[3])
    }
    return 0
  }
}

describe('GET /metrics', () => {
  it('serves the Prometheus text format with the process metrics and event-loop lag', async () => {
    const a = await start()
    const response = await a.inject({ method: 'GET', url: '/metrics' })
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(response.body).toMatch(new RegExp(`^${name} `, 'm'))
    }
  })

  it('counts blocks appended and shows the chain length', async () => {
    const a = await start()
    await post(a, 'one\ntwo\nthree')
    await post(a, 'four')
    const metric = await scrape(a)
    expect(metric('logfire_blocks_appended_total')).toBe(4)
    expect(metric('logfire_chain_length')).toBe(5)
  })

  it('counts burns by reason: random, memory budget and admin', async () => {
    const a = await start({ adminToken: 'admin', maxBlocks: 3 })
    await post(a, 'x', { 'x-logfire-chaos': 'wipe' })
    await post(a, 'a\nb')
    await post(a, 'over the budget')
    await a.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer admin' } })
    const metric = await scrape(a)
    expect(metric('logfire_burns_total', { reason: 'random' })).toBe(1)
    expect(metric('logfire_burns_total', { reason: 'memory budget' })).toBe(1)
    expect(metric('logfire_burns_total', { reason: 'admin' })).toBe(1)
    expect(metric('logfire_chain_length')).toBe(1)
  })

  it('counts lp0 fires and GDPR refusals', async () => {
    const a = await start()
    await post(a, 'x', { 'x-logfire-chaos': 'fire' })
    await post(a, 'x', { 'x-logfire-chaos': 'fire' })
    await post(a, 'made in the EU')
    const metric = await scrape(a)
    expect(metric('logfire_lp0_fires_total')).toBe(2)
    expect(metric('logfire_gdpr_refusals_total')).toBe(1)
    expect(metric('logfire_blocks_appended_total')).toBe(0)
  })

  it('counts requests by route pattern and status code, and times them', async () => {
    const a = await start()
    await post(a, 'x')
    await post(a, 'x', { 'x-logfire-chaos': 'fire' })
    await a.inject({ method: 'GET', url: '/logs/1' })
    await a.inject({ method: 'GET', url: '/logs/999' })
    await a.inject({ method: 'GET', url: '/nowhere' })
    const metric = await scrape(a)
    expect(metric('logfire_http_requests_total', { method: 'POST', route: '/logs', status_code: '200' })).toBe(1)
    expect(metric('logfire_http_requests_total', { method: 'POST', route: '/logs', status_code: '503' })).toBe(1)
    expect(metric('logfire_http_requests_total', { method: 'GET', route: '/logs/:index', status_code: '200' })).toBe(1)
    expect(metric('logfire_http_requests_total', { method: 'GET', route: '/logs/:index', status_code: '404' })).toBe(1)
    expect(metric('logfire_http_requests_total', { method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1)
    expect(metric('logfire_http_request_duration_seconds_count', { method: 'POST', route: '/logs' })).toBe(2)
  })

  it('is never on fire and never rate limited', async () => {
    const a = await start({ fireRate: 1, rateLimit: 1 })
    for (let i = 0; i < 3; i++) expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200)
  })

  it('needs LOGFIRE_METRICS_TOKEN when it is set', async () => {
    const a = await start({ metricsToken: 'scrape-s3cret' })
    expect((await a.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401)
    expect((await a.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(403)
    expect((await a.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-s3cret' } })).statusCode).toBe(200)
  })
})
