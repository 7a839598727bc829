import { describe, expect, it } from 'vitest'
import { appsClosedAfterEach, post, type TestApp } from '../helpers.js'

type App = TestApp
const start = appsClosedAfterEach()

async function chainLength (a: App): Promise<number> {
  return (await a.inject({ method: 'GET', url: '/logs/verify', headers: { 'x-logfire-chaos': 'off' } })).json().length
}

describe('lp0 on fire (503)', () => {
  it('answers any /logs request with 503, "lp0 on fire" and Retry-After', async () => {
    const a = await start({ fireRate: 1 })
    for (const [method, url] of [['GET', '/logs'], ['POST', '/logs'], ['GET', '/logs/0'], ['GET', '/logs/verify'], ['HEAD', '/logs']] as const) {
      const response = await a.inject({ method, url, payload: method === 'POST' ? 'hello' : undefined })
      expect(response.statusCode).toBe(503)
      expect(response.headers['retry-after']).toBe('5')
      if (method !== 'HEAD') {
        expect(response.json()).toEqual({
          statusCode: 503,
          code: 'LOGFIRE_LP0_ON_FIRE',
          error: 'lp0 on fire',
          message: 'The printer is on fire; try again in a moment'
        })
      }
    }
    expect(await chainLength(a)).toBe(1)
  })

  it('happens at about LOGFIRE_FIRE_RATE', async () => {
    const a = await start({ fireRate: 0.05, seed: 'rate' })
    let fires = 0
    for (let i = 0; i < 1000; i++) {
      if ((await a.inject({ method: 'GET', url: '/logs/0' })).statusCode === 503) fires++
    }
    expect(fires).toBeGreaterThan(25)
    expect(fires).toBeLessThan(80)
  })
})

describe('the wipe (410)', () => {
  it('burns the chain at random and does not store the posted entries', async () => {
    const a = await start({ burnRate: 1 })
    await post(a, 'a\nb\nc', { 'x-logfire-chaos': 'off' })
    const response = await post(a, 'doomed')
    expect(response.statusCode).toBe(410)
    expect(response.json()).toEqual({
      statusCode: 410,
      code: 'LOGFIRE_BURNED',
      error: 'Gone',
      message: 'The chain burned down (random) and took 3 blocks with it; your entries were not stored',
      burned: 3,
      reason: 'random'
    })
    expect(await chainLength(a)).toBe(1)
  })

  it('only burns on appends, not on reads', async () => {
    const a = await start({ burnRate: 1 })
    expect((await a.inject({ method: 'GET', url: '/logs' })).statusCode).toBe(200)
  })

  it('always burns when the append would take the chain past LOGFIRE_MAX_BLOCKS, even with chaos off', async () => {
    const a = await start({ maxBlocks: 3 })
    expect((await post(a, 'a\nb')).statusCode).toBe(200)
    const response = await post(a, 'one too many', { 'x-logfire-chaos': 'off' })
    expect(response.statusCode).toBe(410)
    expect(response.json()).toMatchObject({ burned: 2, reason: 'memory budget' })
    expect(await chainLength(a)).toBe(1)
    expect((await post(a, 'fresh start')).statusCode).toBe(200)
  })
})

describe('the order of the fire: rate limit, lp0, body, GDPR, wipe', () => {
  it('rate limit comes before lp0', async () => {
    const a = await start({ fireRate: 1, rateLimit: 1 })
    expect((await a.inject({ method: 'GET', url: '/logs' })).statusCode).toBe(503)
    expect((await a.inject({ method: 'GET', url: '/logs' })).statusCode).toBe(429)
  })

  it('lp0 comes before body errors', async () => {
    const a = await start({ fireRate: 1 })
    expect((await post(a, '{bad', { 'content-type': 'application/json' })).statusCode).toBe(503)
  })

  it('body errors come before GDPR', async () => {
    const a = await start({ maxEntryBytes: 5 })
    expect((await post(a, 'EU\nway too long', { 'content-type': 'text/plain' })).statusCode).toBe(413)
  })

  it('GDPR comes before the wipe, which then does not happen', async () => {
    const a = await start({ burnRate: 1 })
    await post(a, 'kept', { 'x-logfire-chaos': 'off' })
    expect((await post(a, 'the UK')).statusCode).toBe(451)
    expect(await chainLength(a)).toBe(2)
  })
})

describe('X-Logfire-Seed and X-Logfire-Request', () => {
  it('are on every /logs response, whatever its status, numbering requests from 1', async () => {
    const a = await start({ seed: 'my-seed', rateLimit: 3 })
    const responses = [
      await post(a, 'ok'),
      await a.inject({ method: 'GET', url: '/logs/99' }),
      await post(a, '', { 'content-type': 'text/plain' }),
      await a.inject({ method: 'GET', url: '/logs' })
    ]
    expect(responses.map((r) => r.statusCode)).toEqual([200, 404, 400, 429])
    expect(responses.map((r) => r.headers['x-logfire-request'])).toEqual(['1', '2', '3', '4'])
    for (const response of responses) expect(response.headers['x-logfire-seed']).toBe('my-seed')
  })

  it('shows the seed picked at start when none is configured', async () => {
    const a = await start({ seed: undefined })
    expect((await a.inject({ method: 'GET', url: '/logs' })).headers['x-logfire-seed']).toMatch(/^[0-9a-f]{8}$/)
  })
})

describe('seeded, replayable chaos', () => {
  async function outcomes (seed: string): Promise<number[]> {
    const a = await start({ seed, fireRate: 0.2, burnRate: 0.1 })
    const statuses: number[] = []
    for (let i = 0; i < 200; i++) {
      const response = i % 3 === 0
        ? await a.inject({ method: 'GET', url: '/logs' })
        : await post(a, `line ${i}`)
      statuses.push(response.statusCode)
    }
    return statuses
  }

  it('gives the same outcomes for the same seed', async () => {
    const first = await outcomes('replay-me')
    expect(await outcomes('replay-me')).toEqual(first)
    expect(new Set(first)).toEqual(new Set([200, 410, 503]))
  })

  it('gives other outcomes for another seed', async () => {
    expect(await outcomes('one seed')).not.toEqual(await outcomes('another seed'))
  })

  it('decides request N by the seed and N alone, whatever earlier requests asked for', async () => {
    const plain = await start({ seed: 's', fireRate: 0.5 })
    const steered = await start({ seed: 's', fireRate: 0.5 })
    const plainStatuses: number[] = []
    const steeredStatuses: number[] = []
    for (let i = 0; i < 40; i++) {
      plainStatuses.push((await plain.inject({ method: 'GET', url: '/logs' })).statusCode)
      // The first half of the steered run overrides its fate; the second half must not be shifted by that.
      const headers: Record<string, string> = i < 20 ? { 'x-logfire-chaos': i % 2 === 0 ? 'off' : 'fire' } : {}
      steeredStatuses.push((await steered.inject({ method: 'GET', url: '/logs', headers })).statusCode)
    }
    expect(steeredStatuses.slice(20)).toEqual(plainStatuses.slice(20))
  })
})

describe('X-Logfire-Chaos', () => {
  it('forces a fire', async () => {
    const a = await start()
    expect((await post(a, 'x', { 'x-logfire-chaos': 'fire' })).statusCode).toBe(503)
    expect((await a.inject({ method: 'GET', url: '/logs', headers: { 'x-logfire-chaos': 'fire' } })).statusCode).toBe(503)
  })

  it('forces a wipe', async () => {
    const a = await start()
    await post(a, 'a')
    const response = await post(a, 'x', { 'x-logfire-chaos': 'WIPE' })
    expect(response.statusCode).toBe(410)
    expect(response.json()).toMatchObject({ burned: 1, reason: 'random' })
  })

  it('suppresses random fire and wipe with off', async () => {
    const a = await start({ fireRate: 1, burnRate: 1 })
    expect((await post(a, 'safe', { 'x-logfire-chaos': 'off' })).statusCode).toBe(200)
  })

  it('does not bypass GDPR or the rate limit with off', async () => {
    const a = await start({ rateLimit: 1 })
    expect((await post(a, 'the EU', { 'x-logfire-chaos': 'off' })).statusCode).toBe(451)
    expect((await post(a, 'fine', { 'x-logfire-chaos': 'off' })).statusCode).toBe(429)
  })

  it('refuses an unknown value with 400', async () => {
    const a = await start()
    const response = await post(a, 'x', { 'x-logfire-chaos': 'maybe' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'LOGFIRE_INVALID_CHAOS_HEADER' })
  })

  it('is checked after the rate limit', async () => {
    const a = await start({ rateLimit: 1 })
    expect((await post(a, 'x')).statusCode).toBe(200)
    expect((await post(a, 'x', { 'x-logfire-chaos': 'maybe' })).statusCode).toBe(429)
  })

  it('is ignored with LOGFIRE_CHAOS_OVERRIDE=false', async () => {
    const a = await start({ chaosOverride: false, fireRate: 1 })
    expect((await post(a, 'x', { 'x-logfire-chaos': 'off' })).statusCode).toBe(503)
    const calm = await start({ chaosOverride: false })
    expect((await post(calm, 'x', { 'x-logfire-chaos': 'fire' })).statusCode).toBe(200)
    expect((await post(calm, 'x', { 'x-logfire-chaos': 'nonsense' })).statusCode).toBe(200)
  })
})
