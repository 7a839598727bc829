import { describe, expect, it } from 'vitest'
import { appsClosedAfterEach, type TestApp } from '../helpers.js'

const start = appsClosedAfterEach()

describe('rate limit', () => {
  it('answers 429 with Retry-After past LOGFIRE_RATE_LIMIT requests a minute per client', async () => {
    const app = await start({ rateLimit: 2 })
    const get = (remoteAddress: string) => app.inject({ method: 'GET', url: '/logs', remoteAddress })
    const first = await get('10.0.0.1')
    expect(first.statusCode).toBe(200)
    // Answers under the limit carry no rate-limit headers: they are the 429's.
    expect(Object.keys(first.headers).filter((name) => name.includes('ratelimit'))).toEqual([])
    expect((await get('10.0.0.1')).statusCode).toBe(200)
    const limited = await get('10.0.0.1')
    expect(limited.statusCode).toBe(429)
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0)
    expect([limited.headers['x-ratelimit-limit'], limited.headers['x-ratelimit-remaining']]).toEqual(['2', '0'])
    expect(limited.json()).toEqual({
      statusCode: 429,
      code: 'LOGFIRE_RATE_LIMITED',
      error: 'Too Many Requests',
      message: expect.stringMatching(/^Rate limit exceeded, retry in \d+ /)
    })
    // Another client has its own budget.
    expect((await get('10.0.0.2')).statusCode).toBe(200)
  })

  it('is off with LOGFIRE_RATE_LIMIT=0', async () => {
    const app = await start({ rateLimit: 0 })
    for (let i = 0; i < 50; i++) {
      expect((await app.inject({ method: 'GET', url: '/logs' })).statusCode).toBe(200)
    }
  })
})

describe('who the rate limit counts', () => {
  const fromBehind = (a: TestApp, forwardedFor: string) =>
    a.inject({ method: 'POST', url: '/logs', payload: 'x', remoteAddress: '10.0.0.1', headers: { 'x-forwarded-for': forwardedFor } })

  it('keys on the connecting address and ignores X-Forwarded-For by default, so it cannot be dodged', async () => {
    const a = await start({ rateLimit: 2 })
    expect((await fromBehind(a, '198.51.100.1')).statusCode).toBe(200)
    expect((await fromBehind(a, '198.51.100.2')).statusCode).toBe(200)
    expect((await fromBehind(a, '198.51.100.3')).statusCode).toBe(429)
  })

  it('keys on the client X-Forwarded-For names when LOGFIRE_TRUST_PROXY is on', async () => {
    const a = await start({ rateLimit: 2, trustProxy: true })
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
      expect((await fromBehind(a, client)).statusCode).toBe(200)
      expect((await fromBehind(a, client)).statusCode).toBe(200)
    }
    expect((await fromBehind(a, '198.51.100.1')).statusCode).toBe(429)
  })
})
