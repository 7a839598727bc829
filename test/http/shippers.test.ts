import { encode } from '@msgpack/msgpack'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { appsClosedAfterEach, chainEntries, type TestApp } from '../helpers.js'

const start = appsClosedAfterEach()

function send (a: TestApp, url: string, payload: string | Buffer, headers: Record<string, string> = {}) {
  return a.inject({ method: 'POST', url, payload, headers })
}

const hecEvents = (...events: unknown[]) => events.map((event) => JSON.stringify({ time: 1, host: 'h', event })).join('')

describe('Splunk HEC', () => {
  it.each(['/services/collector', '/services/collector/event', '/services/collector/event/1.0'])(
    '%s appends each event and answers 200 {"text":"Success","code":0}', async (url) => {
      const a = await start()
      const response = await send(a, url, hecEvents('one', { msg: 'two' }), { 'content-type': 'application/x-www-form-urlencoded' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ text: 'Success', code: 0 })
      expect(await chainEntries(a)).toEqual(['one', '{"msg":"two"}'])
    })

  it('/services/collector/raw appends lines, gzip included', async () => {
    const a = await start()
    const response = await send(a, '/services/collector/raw', gzipSync('first line\nsecond line\n'), { 'content-encoding': 'gzip' })
    expect(response.json()).toEqual({ text: 'Success', code: 0 })
    expect(await chainEntries(a)).toEqual(['first line', 'second line'])
  })

  it('answers a forced lp0 with 503 {"text":"Server is busy","code":9} and the joke beside it', async () => {
    const a = await start()
    const response = await send(a, '/services/collector/event', hecEvents('x'), { 'x-logfire-chaos': 'fire' })
    expect(response.statusCode).toBe(503)
    expect(response.headers['retry-after']).toBe('5')
    expect(response.json()).toEqual({
      text: 'Server is busy',
      code: 9,
      logfire: { statusCode: 503, code: 'LOGFIRE_LP0_ON_FIRE', error: 'lp0 on fire', message: expect.any(String) }
    })
  })

  it.each([
    ['a GDPR refusal', hecEvents('fine', 'made in the EU'), {}, 451, 6, 1],
    ['an event without "event"', '{"event":"ok"}{"time":2}', {}, 400, 12, 1],
    ['a blank event', '{"event":""}', {}, 400, 13, 0],
    ['malformed JSON', '{"event":"ok"}{"event"', {}, 400, 6, 1],
    ['an empty body', '', {}, 400, 5, undefined],
    ['a forced wipe', hecEvents('x'), { 'x-logfire-chaos': 'wipe' }, 410, 8, undefined],
    ['msgpack', hecEvents('x'), { 'content-type': 'application/msgpack' }, 415, 6, undefined]
  ])('answers %s in HEC\'s shape', async (_name, body, headers, status, code, eventNumber) => {
    const a = await start()
    const response = await send(a, '/services/collector/event', body, headers)
    expect(response.statusCode).toBe(status)
    const json = response.json()
    expect(json).toMatchObject({ code, text: expect.any(String), logfire: { statusCode: status } })
    expect(json['invalid-event-number']).toBe(eventNumber)
    expect(await chainEntries(a)).toEqual([])
  })

  it('answers its health check outside the fire', async () => {
    const a = await start({ fireRate: 1 })
    for (const url of ['/services/collector/health', '/services/collector/health/1.0']) {
      const response = await a.inject({ method: 'GET', url })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ text: 'HEC is healthy', code: 17 })
    }
  })
})

describe('Loki push', () => {
  const push = { streams: [{ stream: { job: 'demo' }, values: [['1700000000000000000', 'first'], ['1700000000000000001', 'second']] }] }

  it('appends each line and answers 204, as Loki does', async () => {
    const a = await start()
    const response = await send(a, '/loki/api/v1/push', JSON.stringify(push), { 'content-type': 'application/json' })
    expect(response.statusCode).toBe(204)
    expect(response.body).toBe('')
    expect(await chainEntries(a)).toEqual(['first', 'second'])
  })

  it("refuses Loki's protobuf with 415, saying to send JSON", async () => {
    const a = await start()
    const response = await send(a, '/loki/api/v1/push', Buffer.from([0x0a, 0x01]), { 'content-type': 'application/x-protobuf' })
    expect(response.statusCode).toBe(415)
    expect(response.json()).toMatchObject({ code: 'LOGFIRE_UNSUPPORTED_MEDIA_TYPE', message: expect.stringContaining('JSON') })
  })

  it('refuses a body that is not a push request, in logfire\'s shape', async () => {
    const a = await start()
    const response = await send(a, '/loki/api/v1/push', '{"streams":[{"values":[["1"]]}]}', { 'content-type': 'application/json' })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'LOGFIRE_LOKI_INVALID_PUSH', error: 'Bad Request' })
  })

  it('burns like every other ingest route', async () => {
    const a = await start()
    const response = await send(a, '/loki/api/v1/push', JSON.stringify(push), { 'x-logfire-chaos': 'wipe' })
    expect(response.statusCode).toBe(410)
    expect(response.json()).toMatchObject({ code: 'LOGFIRE_BURNED' })
  })
})

describe('Datadog logs intake', () => {
  it.each([
    ['one object', { message: 'one', service: 'web' }, ['{"message":"one","service":"web"}']],
    ['an array', [{ message: 'a' }, { message: 'b' }], ['{"message":"a"}', '{"message":"b"}']]
  ])('appends %s and answers 202 {}', async (_name, body, entries) => {
    const a = await start()
    const response = await send(a, '/api/v2/logs', gzipSync(JSON.stringify(body)), { 'content-type': 'application/json', 'content-encoding': 'gzip' })
    expect(response.statusCode).toBe(202)
    expect(response.json()).toEqual({})
    expect(await chainEntries(a)).toEqual(entries)
  })

  it("answers errors in logfire's shape with Datadog's errors list beside it", async () => {
    const a = await start()
    const response = await send(a, '/api/v2/logs', '{"message":"Brexit means Brexit"}', { 'content-type': 'application/json' })
    expect(response.statusCode).toBe(451)
    expect(response.json()).toMatchObject({
      statusCode: 451,
      code: 'LOGFIRE_GDPR',
      errors: [{ status: '451', title: 'Unavailable For Legal Reasons', detail: expect.stringContaining('Brexit') }]
    })
  })
})

describe('POST /logs, shipper formats', () => {
  it("appends Fluent Bit's msgpack records as JSON", async () => {
    const a = await start()
    const body = Buffer.concat([encode([1_700_000_000, { log: 'one' }]), encode([[1_700_000_001, {}], { log: 'two' }])])
    const response = await send(a, '/logs', body, { 'content-type': 'application/msgpack' })
    expect(response.statusCode).toBe(200)
    expect(await chainEntries(a)).toEqual(['{"log":"one"}', '{"log":"two"}'])
  })

  it("appends each element of pino-http-send's {\"logs\":[...]} envelope", async () => {
    const a = await start()
    const response = await send(a, '/logs', '{"logs":[{"msg":"a"},{"msg":"b"}]}', { 'content-type': 'application/json' })
    expect(response.json()).toMatchObject({ appended: 2 })
    expect(await chainEntries(a)).toEqual(['{"msg":"a"}', '{"msg":"b"}'])
  })

  it('numbers requests to every ingest route in one sequence, so a seed replays across them', async () => {
    const a = await start()
    const numbers = []
    for (const url of ['/logs', '/services/collector/raw', '/loki/api/v1/push', '/api/v2/logs']) {
      numbers.push((await send(a, url, 'x')).headers['x-logfire-request'])
    }
    expect(numbers).toEqual(['1', '2', '3', '4'])
  })
})
