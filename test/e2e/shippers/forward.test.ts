import { setTimeout as sleep } from 'node:timers/promises'
import { FluentSocketEvent } from '@fluent-org/logger'
import { describe } from 'vitest'
import { canaryLine } from '../../../src/scorecard/token.js'
import { it, type Defer } from '../../defer.js'
import { chainEntries, testConfig } from '../../helpers.js'
import { STREAMS, startListening, until, type Listening } from '../../listeners/listening.js'
import { fluentLoggerClient, fluentOrgClient } from './node-clients.js'

/*
 * Real Forward clients against logfire's listener, with acks on, each told
 * a different lie: the chunk's ack lost, or the connection reset before the
 * chunk is stored. Both sides are asserted: what the chain holds, and what
 * the client told the application.
 */

describe('Forward clients with acknowledgements, into logfire', { concurrent: true }, () => {
  async function listening (defer: Defer, steps: unknown[], forwardSharedKey?: string): Promise<Listening> {
    const l = await startListening({ streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, forwardPort: 0, forwardSharedKey } })
    defer(l.close)
    if (steps.length > 0) await l.scenario(steps)
    return l
  }

  const stored = async (l: Listening) => (await l.entries()).map((entry) => (JSON.parse(entry) as { record: { n: number } }).record.n)
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

  function fluentOrg (defer: Defer, l: Listening, sharedKey?: string) {
    const client = fluentOrgClient(l.forward, sharedKey)
    defer(client.stop)
    return client
  }

  it('@fluent-org/logger, lost ack: the whole chunk is resent, so it arrives twice', async ({ defer, expect }) => {
    const l = await listening(defer, [{ messages: 1 }, { messages: 1, chaos: 'ack-loss' }])
    const client = fluentOrg(defer, l)
    // Canary lines in the records: the scorecard finds them in each event's JSON.
    const emit = (n: number) => client.emit(canaryLine('fwd-ack-loss', n, Date.now()), { n })
    const outcomes = await Promise.all(range(1, 20).map(emit))
    const second = await Promise.all(range(21, 20).map(emit))
    expect([...outcomes, ...second].every((error) => error === undefined)).toBe(true)
    const chain = await stored(l)
    expect(chain.filter((n) => n >= 21).sort((a, b) => a - b)).toEqual(range(21, 20).flatMap((n) => [n, n]))
    expect(chain.filter((n) => n < 21)).toEqual(range(1, 20))
    expect([...(await l.streams()).live, ...(await l.streams()).recent].reduce((sum, connection) => sum + connection.unacknowledged, 0)).toBe(20)
    const score = (await l.app.inject({ method: 'GET', url: '/scorecard/fwd-ack-loss' })).json()
    expect(score).toMatchObject({ unique: 40, duplicates: 20, duplicatesAfter: { 'forward ack-loss': 20 } })
  })

  it('@fluent-org/logger, reset before the chunk is stored: resent on a new connection, nothing lost, nothing twice', async ({ defer, expect }) => {
    const l = await listening(defer, [{ messages: 1 }, { messages: 1, chaos: 'reset' }])
    const client = fluentOrg(defer, l)
    expect(await Promise.all(range(1, 20).map((n) => client.emit('line', { n })))).toEqual(range(1, 20).map(() => undefined))
    expect(await Promise.all(range(21, 20).map((n) => client.emit('line', { n })))).toEqual(range(21, 20).map(() => undefined))
    expect((await stored(l)).sort((a, b) => a - b)).toEqual(range(1, 40))
    expect((await l.streams()).recent[0]).toMatchObject({ endedBy: 'reset' })
  })

  it('@fluent-org/logger with the shared key: HELO, PING and PONG, each side checking the other, then its events stored', async ({ defer, expect }) => {
    const l = await listening(defer, [], 'correct horse')
    const client = fluentOrg(defer, l, 'correct horse')
    expect(await Promise.all(range(1, 20).map((n) => client.emit('line', { n })))).toEqual(range(1, 20).map(() => undefined))
    expect((await stored(l)).sort((a, b) => a - b)).toEqual(range(1, 20))
  })

  it('@fluent-org/logger to a fire of its own (open mode): its ingest token as the username, its events in that fire alone', async ({ defer, expect }) => {
    const l = await startListening({ fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 }, streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, forwardPort: 0, forwardSharedKey: 'correct horse' } })
    defer(l.close)
    const fire = (await l.app.inject({ method: 'POST', url: '/fires' })).json<{ ingestToken: string, viewToken: string }>()
    const client = fluentOrgClient(l.forward, 'correct horse', { username: fire.ingestToken, password: 'not checked' })
    defer(client.stop)
    expect(await Promise.all(range(1, 20).map((n) => client.emit('line', { n })))).toEqual(range(1, 20).map(() => undefined))
    const ofTheFire = await chainEntries(l.app, { authorization: `Bearer ${fire.viewToken}`, 'x-logfire-chaos': 'off' })
    expect(ofTheFire.map((entry) => (JSON.parse(entry) as { record: { n: number } }).record.n).sort((a, b) => a - b)).toEqual(range(1, 20))
    expect(await l.entries()).toEqual([])
  })

  it('@fluent-org/logger with the wrong shared key: told why, and nothing stored', async ({ defer, expect }) => {
    const l = await listening(defer, [], 'correct horse')
    const { client } = fluentOrg(defer, l, 'battery staple')
    const errors: Error[] = []
    client.socketOn(FluentSocketEvent.ERROR, (error: Error) => { errors.push(error) })
    client.emit('test', { n: 1 }).catch(() => {})
    await until(() => errors.length > 0)
    expect(errors[0]?.message).toMatch(/Authentication failed: shared key mismatch/)
    expect(await stored(l)).toEqual([])
    expect((await l.streams()).recent[0]).toMatchObject({ endedBy: 'unauthenticated', messages: 0 })
  })

  function fluentLogger (defer: Defer, l: Listening) {
    const client = fluentLoggerClient(l.forward)
    defer(client.stop)
    return client
  }

  it('fluent-logger, reset before the chunk is stored: the chunk is lost, and its callbacks report errors', async ({ defer, expect }) => {
    const l = await listening(defer, [{ messages: 1 }, { messages: 1, chaos: 'reset' }])
    const { emit } = fluentLogger(defer, l)
    const first = await Promise.all(range(1, 20).map((n) => emit('line', { n })))
    expect(first.every((error) => error === undefined)).toBe(true)
    const second = await Promise.all(range(21, 20).map((n) => emit('line', { n })))
    await sleep(500)
    const chain = await stored(l)
    expect(chain.filter((n) => n >= 21)).toEqual([])
    expect(second.filter((error) => error !== undefined).length).toBeGreaterThan(0)
    expect(chain).toEqual(range(1, 20))
  })

  it('fluent-logger, lost ack: stored once, and its callbacks still report errors', async ({ defer, expect }) => {
    const l = await listening(defer, [{ messages: 1 }, { messages: 1, chaos: 'ack-loss' }])
    const { emit } = fluentLogger(defer, l)
    await Promise.all(range(1, 20).map((n) => emit('line', { n })))
    const second = await Promise.all(range(21, 20).map((n) => emit('line', { n })))
    await until(async () => (await stored(l)).length >= 40)
    await sleep(300)
    expect((await stored(l)).sort((a, b) => a - b)).toEqual(range(1, 40))
    // The application is told 20 stored events failed: if it retries them, they arrive twice.
    expect(second.filter((error) => error !== undefined)).toHaveLength(20)
    expect(second.find((error) => error !== undefined)?.name).toMatch(/ResponseTimeout/)
  })
})
