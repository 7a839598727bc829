import { describe, expect, it } from 'vitest'
import { appsClosedAfterEach, captureLogs, post } from '../helpers.js'

const start = appsClosedAfterEach()

describe('logging', () => {
  it('writes one line per request, without the body or the headers', async () => {
    const logs = captureLogs()
    const app = await start({ adminToken: 'top-secret-token' }, { logger: logs.logger })
    await post(app, 'a private log line')
    await app.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer top-secret-token' } })
    await app.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer wrong-guess-token' } })

    const requests = logs.lines.filter((line) => line.msg === 'request')
    expect(requests.map((line) => [line.method, line.url, line.statusCode])).toEqual([
      ['POST', '/logs', 200], ['DELETE', '/logs', 200], ['DELETE', '/logs', 401]
    ])
    expect(logs.text()).not.toContain('a private log line')
    expect(logs.text()).not.toContain('top-secret-token')
    expect(logs.text()).not.toContain('wrong-guess-token')
  })

  it('logs each burn, fire and GDPR refusal with its reason, never the line', async () => {
    const logs = captureLogs()
    const app = await start({ adminToken: 't', maxBlocks: 2 }, { logger: logs.logger })
    await post(app, 'the EU line that must not be logged')
    await post(app, 'x', { 'x-logfire-chaos': 'fire' })
    await post(app, 'x', { 'x-logfire-chaos': 'wipe' })
    await post(app, 'a\nb')
    await app.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer t' } })

    const events = logs.lines.filter((line) => line.msg !== 'request').map(({ msg, gdpr, fire, burn }) => ({ msg, gdpr, fire, burn }))
    expect(events).toEqual([
      { msg: 'GDPR refusal', gdpr: { entry: 0, term: 'eu' }, fire: undefined, burn: undefined },
      { msg: 'lp0 on fire', gdpr: undefined, fire: 'lp0', burn: undefined },
      { msg: 'chain burned', gdpr: undefined, fire: undefined, burn: { reason: 'random', burned: 0 } },
      { msg: 'chain burned', gdpr: undefined, fire: undefined, burn: { reason: 'memory budget', burned: 0 } },
      { msg: 'chain burned', gdpr: undefined, fire: undefined, burn: { reason: 'admin', burned: 0 } }
    ])
    expect(logs.text()).not.toContain('must not be logged')
  })

  it('logs an unexpected error in full for the operator', async () => {
    const logs = captureLogs()
    const app = await start({}, { logger: logs.logger, clock: () => { throw new Error('clock exploded') } })
    expect((await post(app, 'x')).statusCode).toBe(500)
    const error = logs.lines.find((line) => line.msg === 'unexpected error')
    expect(error).toMatchObject({ level: 50, err: { message: 'clock exploded' } })
  })
})
