import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { NO_BATCH_CHAOS } from '../../src/fire/batches.js'
import { NO_FAULT_SETTINGS } from '../../src/fire/faults.js'
import { appsClosedAfterEach, post, type TestApp } from '../helpers.js'

type App = TestApp
const start = appsClosedAfterEach()

const burn = (a: App, authorization?: string) =>
  a.inject({ method: 'DELETE', url: '/logs', headers: authorization === undefined ? {} : { authorization } })

describe('DELETE /logs', () => {
  it('is disabled (404) when no admin token is configured', async () => {
    const a = await start({ adminToken: undefined })
    const response = await burn(a, 'Bearer anything')
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ statusCode: 404, code: 'LOGFIRE_ADMIN_DISABLED', error: 'Not Found' })
  })

  it.each([
    ['no Authorization header', undefined],
    ['a wrong token', 'Bearer wrong'],
    ['a token that is a prefix of the right one', 'Bearer s3cr'],
    ['the right token in another scheme', 'Basic s3cret'],
    ['an empty bearer', 'Bearer ']
  ])('answers 401 to %s and burns nothing', async (_name, authorization) => {
    const a = await start({ adminToken: 's3cret' })
    await post(a, 'keep me')
    const response = await burn(a, authorization)
    expect(response.statusCode).toBe(401)
    expect(response.headers['www-authenticate']).toBe('Bearer realm="logfire admin"')
    expect(response.json()).toMatchObject({ statusCode: 401, code: 'LOGFIRE_UNAUTHORIZED', error: 'Unauthorized' })
    expect((await a.inject({ method: 'GET', url: '/logs/verify' })).json().length).toBe(2)
  })

  it('burns the chain with the right token and reports the blocks lost', async () => {
    const a = await start({ adminToken: 's3cret' })
    await post(a, 'a\nb\nc')
    const response = await burn(a, 'Bearer s3cret')
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ burned: 3 })
    expect((await a.inject({ method: 'GET', url: '/logs' })).json()).toHaveLength(1)
  })

  it('is fireproof: the stage\'s burn button works while lp0 burns', async () => {
    const a = await start({ adminToken: 's3cret', fireRate: 1 })
    expect((await burn(a, 'Bearer s3cret')).statusCode).toBe(200)
  })
})

const admin = (a: App, method: 'GET' | 'PATCH', body?: unknown, authorization = 'Bearer s3cret') =>
  a.inject({ method, url: '/admin/chaos', headers: { authorization }, ...(body === undefined ? {} : { payload: body as object }) })

describe('GET and PATCH /admin/chaos', () => {
  it('shows the live settings', async () => {
    const a = await start({ adminToken: 's3cret', fireRate: 0.05, burnRate: 0.02, gdpr: true })
    const response = await admin(a, 'GET')
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ fireRate: 0.05, burnRate: 0.02, wipeRate: 0.02, gdpr: true, override: true, maxEntriesPerRequest: 0, ...NO_FAULT_SETTINGS, ...NO_BATCH_CHAOS })
  })

  it('changes them at runtime, and the very next request obeys', async () => {
    const a = await start({ adminToken: 's3cret' })
    expect((await post(a, 'the EU')).statusCode).toBe(451)
    const response = await admin(a, 'PATCH', { fireRate: 1, gdpr: false })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ fireRate: 1, burnRate: 0, wipeRate: 0, gdpr: false, override: true })
    expect((await post(a, 'the EU')).statusCode).toBe(503)
    await admin(a, 'PATCH', { fireRate: 0, burnRate: 1 })
    expect((await post(a, 'the EU')).statusCode).toBe(410)
    await admin(a, 'PATCH', { burnRate: 0 })
    expect((await post(a, 'the EU')).statusCode).toBe(200)
  })

  it('takes wipeRate, the old name of burnRate, and shows both', async () => {
    const a = await start({ adminToken: 's3cret' })
    const response = await admin(a, 'PATCH', { wipeRate: 1 })
    expect(response.json()).toMatchObject({ burnRate: 1, wipeRate: 1 })
    expect((await post(a, 'x')).statusCode).toBe(410)
    // The new name wins when both come.
    expect((await admin(a, 'PATCH', { wipeRate: 1, burnRate: 0 })).json()).toMatchObject({ burnRate: 0, wipeRate: 0 })
    expect((await post(a, 'x')).statusCode).toBe(200)
  })

  it('turns the X-Logfire-Chaos override off and on at runtime', async () => {
    const a = await start({ adminToken: 's3cret' })
    expect((await post(a, 'x', { 'x-logfire-chaos': 'fire' })).statusCode).toBe(503)
    await admin(a, 'PATCH', { override: false })
    const ignored = await post(a, 'x', { 'x-logfire-chaos': 'fire' })
    expect(ignored.statusCode).toBe(200)
    expect(ignored.headers['x-logfire-settings']).toBe('fire=0; burn=0; gdpr=on; override=off')
    await admin(a, 'PATCH', { override: true })
    expect((await post(a, 'x', { 'x-logfire-chaos': 'fire' })).statusCode).toBe(503)
  })

  it('shows runtime changes in GET / and in X-Logfire-Settings', async () => {
    const a = await start({ adminToken: 's3cret', fireRate: 0.05, burnRate: 0.02 })
    expect((await post(a, 'x', { 'x-logfire-chaos': 'off' })).headers['x-logfire-settings']).toBe('fire=0.05; burn=0.02; gdpr=on; override=on')
    await admin(a, 'PATCH', { fireRate: 0.5, gdpr: false })
    expect((await post(a, 'x', { 'x-logfire-chaos': 'off' })).headers['x-logfire-settings']).toBe('fire=0.5; burn=0.02; gdpr=off; override=on')
    expect((await a.inject({ method: 'GET', url: '/' })).json().chaos).toMatchObject({ fireRate: 0.5, burnRate: 0.02, gdpr: false })
  })

  it.each([
    [{ fireRate: 2 }],
    [{ burnRate: -1 }],
    [{ gdpr: 'yes' }],
    [{ fireRate: '0.5' }],
    [{ surprise: true }]
  ])('refuses %j with 400 and changes nothing', async (patch) => {
    const a = await start({ adminToken: 's3cret' })
    const response = await admin(a, 'PATCH', patch)
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'LOGFIRE_INVALID_REQUEST' })
    expect((await admin(a, 'GET')).json()).toEqual({ fireRate: 0, burnRate: 0, wipeRate: 0, gdpr: true, override: true, maxEntriesPerRequest: 0, ...NO_FAULT_SETTINGS, ...NO_BATCH_CHAOS })
  })

  it('needs the admin token, checked before the body is read', async () => {
    const a = await start({ adminToken: 's3cret' })
    expect((await admin(a, 'GET', undefined, 'Bearer nope')).statusCode).toBe(401)
    const response = await admin(a, 'PATCH', { fireRate: 'not even valid' }, 'Bearer nope')
    expect(response.statusCode).toBe(401)
    expect(response.json()).toMatchObject({ code: 'LOGFIRE_UNAUTHORIZED' })
  })

  it('does not exist without an admin token', async () => {
    const a = await start({ adminToken: undefined })
    const response = await admin(a, 'GET')
    expect(response.statusCode).toBe(404)
    expect(response.json()).toMatchObject({ code: 'LOGFIRE_ADMIN_DISABLED' })
  })
})

describe('PATCH /admin/chaos under fuzzing', () => {
  it('takes any body: a valid change applies whole, anything else is a 400 that changes nothing, never a 5xx', async () => {
    // Hundreds of admin requests: past the admin rate limit, which is not under test here.
    const a = await start({ adminToken: 's3cret', adminRateLimit: 0 })
    const value = fc.oneof(fc.double(), fc.integer(), fc.boolean(), fc.string(), fc.constant(null), fc.array(fc.integer(), { maxLength: 2 }), fc.constantFrom(0, 0.5, 1, true, false, 'lognormal', 503, [429, 503]))
    const patch = fc.dictionary(fc.constantFrom('fireRate', 'burnRate', 'wipeRate', 'gdpr', 'override', 'resetRate', 'delayMs', 'delayDistribution', 'statusCodes', 'maxEntriesPerRequest', '__proto__', 'constructor', 'x'), value, { maxKeys: 4 })
    await fc.assert(fc.asyncProperty(fc.oneof(patch, value), async (body) => {
      const before = (await admin(a, 'GET')).json()
      const response = await a.inject({ method: 'PATCH', url: '/admin/chaos', headers: { authorization: 'Bearer s3cret', 'content-type': 'application/json' }, payload: JSON.stringify(body) })
      expect(response.statusCode === 200 || response.statusCode === 400).toBe(true)
      const after = (await admin(a, 'GET')).json()
      if (response.statusCode === 400) {
        expect(response.json()).toMatchObject({ statusCode: 400, code: 'LOGFIRE_INVALID_REQUEST' })
        expect(after).toEqual(before)
        return
      }
      expect(after).toEqual(response.json())
      for (const rate of [after.fireRate, after.burnRate, after.resetRate]) expect(rate >= 0 && rate <= 1).toBe(true)
      for (const code of after.statusCodes) expect(code >= 400 && code <= 599).toBe(true)
      expect(Number.isInteger(after.delayMs) && Number.isInteger(after.maxEntriesPerRequest)).toBe(true)
      expect(after.wipeRate).toBe(after.burnRate)
    }), { numRuns: 300 })
  })
})
