import { afterEach, describe, expect, it } from 'vitest'
import { buildTestApp, post } from '../helpers.js'

type App = Awaited<ReturnType<typeof buildTestApp>>
let app: App | undefined
afterEach(async () => { await app?.close() })

async function start (...args: Parameters<typeof buildTestApp>) {
  app = await buildTestApp(...args)
  return app
}

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
