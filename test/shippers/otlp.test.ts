import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { NO_BATCH_CHAOS } from '../../src/fire/batches.js'
import { canaryLine } from '../../src/scorecard/token.js'
import { logEntries } from '../../src/shippers/otlp/records.js'
import { loadOtlpSchema } from '../../src/shippers/otlp/schema.js'
import { appsClosedAfterEach, chainEntries, type TestApp } from '../helpers.js'

const schema = loadOtlpSchema()
const request = (records: unknown[], resource: unknown = { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] }) =>
  ({ resourceLogs: [{ resource, scopeLogs: [{ scope: { name: 'scope', version: '2' }, logRecords: records }] }] })
const protobuf = (message: unknown) => Buffer.from(schema.request.encode(schema.request.fromObject(message as Record<string, unknown>)).finish())

describe('logEntries: one compact JSON entry per log record', () => {
  it('reads OTLP JSON as the spec writes it: hex ids in any case, 64-bit numbers as strings or numbers, integer enums, unknown fields ignored', () => {
    const [entry] = logEntries(request([{
      timeUnixNano: '1700000000123456789',
      observedTimeUnixNano: 1700000001000000000,
      severityNumber: 9,
      severityText: 'INFO',
      body: { kvlistValue: { values: [{ key: 'msg', value: { stringValue: 'hi' } }, { key: 'big', value: { intValue: '9007199254740993' } }] } },
      attributes: [
        { key: 'n', value: { intValue: 7 } }, { key: 'd', value: { doubleValue: 0.5 } }, { key: 'b', value: { boolValue: false } },
        { key: 'bytes', value: { bytesValue: 'AQI=' } }, { key: 'list', value: { arrayValue: { values: [{ stringValue: 'x' }, {}] } } },
        { key: '__proto__', value: { stringValue: 'kept as data' } }
      ],
      traceId: '5B8EFFF798038103D269B633813FC60C',
      spanId: 'EEE19B7EC3C1B174',
      eventName: 'checkout.failed',
      someFutureField: { ignored: true }
    }]))
    expect(JSON.parse(entry as string)).toEqual({
      time: '2023-11-14T22:13:20.123456789Z',
      severity: 'INFO',
      severityNumber: 9,
      body: { msg: 'hi', big: '9007199254740993' },
      attributes: JSON.parse('{"n":7,"d":0.5,"b":false,"bytes":"AQI=","list":["x",null],"__proto__":"kept as data"}'),
      resource: { 'service.name': 'api' },
      scope: { name: 'scope', version: '2' },
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      eventName: 'checkout.failed'
    })
  })

  it('uses the observed time when the time is 0 (unknown), and leaves out what a record does not have', () => {
    expect(logEntries(request([{ timeUnixNano: '0', observedTimeUnixNano: '1700000000000000000' }, {}], {})))
      .toEqual(['{"time":"2023-11-14T22:13:20.000000000Z","scope":{"name":"scope","version":"2"}}', '{"scope":{"name":"scope","version":"2"}}'])
  })

  it.each([
    ['a request that is not an object', []],
    ['resourceLogs that is not a list', { resourceLogs: {} }],
    ['a string enum', request([{ severityNumber: 'SEVERITY_NUMBER_INFO' }])],
    ['a trace id of the wrong length', request([{ traceId: 'abcd' }])],
    ['a time that is not a number', request([{ timeUnixNano: 'yesterday' }])],
    ['an attribute without a key', request([{ attributes: [{ value: { stringValue: 'x' } }] }])]
  ])('refuses %s with a 400', (_what, body) => {
    expect(() => logEntries(body)).toThrow(expect.objectContaining({ statusCode: 400 }))
  })

  it('refuses values nested deeper than 32 with a 400, not a stack overflow', () => {
    let value: unknown = { stringValue: 'bottom' }
    for (let depth = 0; depth < 5000; depth++) value = { kvlistValue: { values: [{ key: 'k', value }] } }
    expect(() => logEntries(request([{ body: value }]))).toThrow(expect.objectContaining({ code: 'LOGFIRE_NESTED_TOO_DEEP' }))
  })
})

describe('POST /v1/logs', () => {
  const start = appsClosedAfterEach()
  const send = (app: TestApp, payload: Buffer | string, type: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/v1/logs', payload, headers: { 'content-type': type, ...headers } })
  const statusOf = (body: Buffer) => schema.status.toObject(schema.status.decode(body)) as { code?: number, message?: string }

  it('stores protobuf records, ids from bytes, and answers an empty ExportLogsServiceResponse in protobuf', async () => {
    const app = await start()
    const response = await send(app, gzipSync(protobuf(request([{ body: { stringValue: 'from protobuf' }, traceId: Buffer.alloc(16, 0xab), spanId: Buffer.alloc(8, 1), timeUnixNano: '1700000000000000001' }]))), 'application/x-protobuf', { 'content-encoding': 'gzip' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('application/x-protobuf')
    expect(response.rawPayload).toHaveLength(0)
    expect(await chainEntries(app)).toEqual([JSON.stringify({
      time: '2023-11-14T22:13:20.000000001Z', body: 'from protobuf', resource: { 'service.name': 'api' }, scope: { name: 'scope', version: '2' }, traceId: 'ab'.repeat(16), spanId: '01'.repeat(8)
    })])
  })

  it('answers JSON with {} and a partialSuccess when itemRejectRate refuses records, storing only the others', async () => {
    const app = await start({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 0.5 } })
    expect((await send(app, JSON.stringify(request([])), 'application/json')).body).toBe('{}')
    await app.inject({ method: 'PUT', url: '/scorecard/otel' })
    const records = Array.from({ length: 10 }, (_, i) => ({ body: { stringValue: canaryLine('otel', i + 1, 1_700_000_000_000) } }))
    const response = await send(app, JSON.stringify(request(records)), 'application/json')
    expect(response.statusCode).toBe(200)
    const rejected = Number(response.json().partialSuccess.rejectedLogRecords)
    expect(rejected).toBeGreaterThan(0)
    expect(response.json().partialSuccess.errorMessage).toMatch(/must not be retried/)
    expect(await chainEntries(app)).toHaveLength(10 - rejected)
    expect((await app.inject({ method: 'GET', url: '/scorecard/otel' })).json()).toMatchObject({ delivered: 10 - rejected, refusedLines: { 200: rejected } })

    const binary = await send(app, protobuf(request(records)), 'application/x-protobuf')
    const decoded = schema.response.toObject(schema.response.decode(binary.rawPayload), { longs: String }) as { partialSuccess?: { rejectedLogRecords: string } }
    expect(Number(decoded.partialSuccess?.rejectedLogRecords)).toBeGreaterThan(0)
  })

  it('answers errors as google.rpc.Status in the request\'s encoding: lp0 503 with Retry-After, 410, 451, 400 for a truncated message', async () => {
    const app = await start()
    const body = protobuf(request([{ body: { stringValue: 'x' } }]))
    const fire = await send(app, body, 'application/x-protobuf', { 'x-logfire-chaos': 'fire' })
    expect([fire.statusCode, fire.headers['retry-after'], fire.headers['content-type']]).toEqual([503, '5', 'application/x-protobuf'])
    expect(statusOf(fire.rawPayload)).toEqual({ code: 14, message: expect.stringMatching(/^LOGFIRE_LP0_ON_FIRE: /) })
    expect(statusOf((await send(app, body, 'application/x-protobuf', { 'x-logfire-chaos': 'burn' })).rawPayload)).toMatchObject({ code: 10, message: expect.stringMatching(/^LOGFIRE_BURNED/) })
    const gdpr = await send(app, JSON.stringify(request([{ body: { stringValue: 'shipped from eu-west-1' } }])), 'application/json')
    expect([gdpr.statusCode, gdpr.json()]).toEqual([451, expect.objectContaining({ code: 7, logfire: expect.objectContaining({ code: 'LOGFIRE_GDPR' }) })])
    const truncated = await send(app, body.subarray(0, body.length - 3), 'application/x-protobuf')
    expect([truncated.statusCode, statusOf(truncated.rawPayload).code]).toEqual([400, 3])
    expect(await chainEntries(app)).toEqual([])
  })

  it('refuses a Content-Type that is neither protobuf nor JSON with a 415, in JSON', async () => {
    const app = await start()
    const response = await send(app, 'a line', 'text/plain')
    expect([response.statusCode, response.json().logfire.code]).toEqual([415, 'LOGFIRE_UNSUPPORTED_MEDIA_TYPE'])
  })

  it('survives a protobuf field bomb and deep kvlist nesting in protobuf with a clear answer', async () => {
    const app = await start({ maxEntriesPerRequest: 1000 })
    // 300,000 empty log records in 600 KB.
    const records = Buffer.alloc(600_000)
    for (let i = 0; i < records.length; i += 2) records[i] = 0x12
    const scopeLogs = Buffer.concat([Buffer.from([0x12]), varint(records.length), records])
    const bomb = Buffer.concat([Buffer.from([0x0a]), varint(scopeLogs.length), scopeLogs])
    const response = await send(app, bomb, 'application/x-protobuf')
    expect(response.statusCode).toBe(413)
    // AnyValue{kvlist_value: {values: [{key: "k", value: AnyValue{...}}]}}, 2,000 deep, by hand.
    let value = Buffer.from([0x0a, 0x01, 0x62])
    for (let depth = 0; depth < 2000; depth++) {
      const pair = Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), varint(value.length), value])
      const list = Buffer.concat([Buffer.from([0x0a]), varint(pair.length), pair])
      value = Buffer.concat([Buffer.from([0x32]), varint(list.length), list])
    }
    const record = Buffer.concat([Buffer.from([0x2a]), varint(value.length), value])
    const scope = Buffer.concat([Buffer.from([0x12]), varint(record.length), record])
    const resource = Buffer.concat([Buffer.from([0x12]), varint(scope.length), scope])
    const deep = await send(app, Buffer.concat([Buffer.from([0x0a]), varint(resource.length), resource]), 'application/x-protobuf')
    expect(deep.statusCode).toBe(400)
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })
})

function varint (value: number): Buffer {
  const bytes: number[] = []
  while (value > 127) { bytes.push((value & 127) | 128); value >>>= 7 }
  bytes.push(value)
  return Buffer.from(bytes)
}
