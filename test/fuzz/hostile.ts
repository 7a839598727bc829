import { encode } from '@msgpack/msgpack'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import fc from 'fast-check'
import type { AddressInfo } from 'node:net'
import type { LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.js'
import { verifyChain } from '../../src/chain/verify.js'
import { ChainStore } from '../../src/chain/store.js'
import { loadConfig, type Config } from '../../src/config.js'
import { bodyToEntries, logsFormat, utf8Text, type BodyHeaders, type BodyLimits } from '../../src/ingest/body.js'
import { decodeBody } from '../../src/ingest/decode.js'
import { parseBulk } from '../../src/shippers/elasticsearch/bulk.js'
import { hecEventFormat, hecRawFormat } from '../../src/shippers/hec/events.js'
import { lokiPushFormat } from '../../src/shippers/loki/push.js'
import { logEntries } from '../../src/shippers/otlp/records.js'
import { decodeExportRequest, loadOtlpSchema } from '../../src/shippers/otlp/schema.js'
import { encodingOf } from '../../src/shippers/otlp/replies.js'
import { bodyOf, exchange, statusOf } from '../fire/raw-client.js'

/*
 * Hostile requests to every ingest route, and the invariants logfire keeps
 * whatever it is sent. Shared by test/fuzz.test.ts (a small sample with a
 * fixed seed) and `npm run fuzz` (100,000 cases or more).
 */

const otlp = loadOtlpSchema()

// 50 MB of zeros in about 50 KB of gzip: the decoded size is capped, a 413.
const GZIP_BOMB = gzipSync(Buffer.alloc(50 * 1024 * 1024))

/** What an accepted request to a route must have stored: the entries its body holds. */
type Expected = (body: Buffer, headers: BodyHeaders, limits: BodyLimits) => string[]

const formatted = (format: Parameters<typeof bodyToEntries>[3]): Expected => (body, headers, limits) => bodyToEntries(body, headers, limits, format)
const bulkEntries = (urlIndex: string | undefined): Expected => (body, headers, limits) =>
  parseBulk(utf8Text({ kind: 'text', bytes: decodeBody(body, headers.contentEncoding, limits.maxBodyBytes), contentType: headers.contentType }), urlIndex, limits.maxEntryBytes)
    .filter((item) => item.error === undefined).map((item) => item.entry)
const otlpEntries: Expected = (body, headers, limits) =>
  logEntries(decodeExportRequest(otlp, encodingOf(headers.contentType) ?? 'json', decodeBody(body, headers.contentEncoding, limits.maxBodyBytes)))

type Shape = 'logfire' | 'hec' | 'es' | 'otlp'
const ROUTES: Record<string, { entries: Expected, success: number, shape: Shape, documentedAs?: string }> = {
  '/logs': { entries: formatted(logsFormat), success: 200, shape: 'logfire' },
  '/services/collector': { entries: formatted(hecEventFormat), success: 200, shape: 'hec' },
  '/services/collector/event': { entries: formatted(hecEventFormat), success: 200, shape: 'hec' },
  '/services/collector/event/1.0': { entries: formatted(hecEventFormat), success: 200, shape: 'hec' },
  '/services/collector/raw': { entries: formatted(hecRawFormat), success: 200, shape: 'hec' },
  '/loki/api/v1/push': { entries: formatted(lokiPushFormat), success: 204, shape: 'logfire' },
  '/api/v2/logs': { entries: formatted(logsFormat), success: 202, shape: 'logfire' },
  '/es/_bulk': { entries: bulkEntries(undefined), success: 200, shape: 'es' },
  '/es/fuzz/_bulk': { entries: bulkEntries('fuzz'), success: 200, shape: 'es', documentedAs: '/es/{index}/_bulk' },
  '/v1/logs': { entries: otlpEntries, success: 200, shape: 'otlp' }
}

interface ChainState { length: number, epoch: number, head: string }

export interface HostileRequest {
  url: string
  body: Buffer
  headers: Record<string, string>
}

const text = (s: string) => Buffer.from(s, 'utf8')

// Bodies: plausible ones, broken ones and plain garbage.
const plausibleBody = fc.oneof(
  fc.array(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 20 }).map((lines) => lines.join('\n')),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value)),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 10 }).map((values) => values.map((value) => JSON.stringify({ event: value })).join('')),
  fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 10 }).map((values) => JSON.stringify({ streams: [{ stream: { job: 'fuzz' }, values }] })),
  fc.array(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), { maxLength: 10 }).map((logs) => JSON.stringify({ logs }))
).map(text)

// Lines that GDPR refuses, among lines it lets through.
const gdprBody = fc.tuple(fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }), fc.constantFrom('shipped to eu-west-1', 'Brexit means Brexit', 'Europe/London', 'the U.K. office'))
  .map(([lines, mention]) => text([...lines, mention].join('\n')))

// Canary lines, honest and hostile: huge or negative numbers, bad ids, many tokens in a line.
const canaryBody = fc.array(fc.oneof(
  fc.tuple(fc.constantFrom('fuzz-run', 'other.run'), fc.integer({ min: 0, max: 1000 })).map(([run, seq]) => `logfire-canary run=${run} seq=${seq} sent=1700000000000 filler`),
  fc.constantFrom(
    'logfire-canary run=fuzz-run seq=99999999999999999999999 sent=1',
    'logfire-canary run=fuzz-run seq=-5 sent=1',
    'logfire-canary run=<img> seq=1 sent=1',
    'logfire-canary run=' + 'x'.repeat(65) + ' seq=1 sent=1',
    'logfire-canary run=fuzz-run seq=1 sent=1 '.repeat(2000)
  )
), { minLength: 1, maxLength: 20 }).map((lines) => text(lines.join('\n')))

// Elasticsearch _bulk: action and source pairs, some broken, some refused item by item.
const bulkAction = fc.oneof(
  fc.constantFrom('index', 'create', 'update', 'delete').map((action) => ({ [action]: { _index: 'fuzz', _id: action === 'update' || action === 'delete' ? 'id' : undefined } })),
  fc.constantFrom({ index: {} }, { index: { _index: 'UPPER' } }, { index: { _type: '_doc', pipeline: 'p' } }, { upsert: {} }, { index: 1 }, { index: {}, create: {} })
)
const bulkSource = fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.constantFrom({ doc: { a: 1 } }, { _id: 'meta' }, [1], 'text', null))
const bulkBody = fc.array(fc.tuple(bulkAction, bulkSource, fc.boolean()), { minLength: 1, maxLength: 12 })
  .map((pairs) => text(pairs.map(([action, source, crlf]) => JSON.stringify(action) + (crlf ? '\r\n' : '\n') + ('delete' in action ? '' : JSON.stringify(source) + '\n')).join('')))

// OTLP log records, as JSON or protobuf, whole, truncated or bombs.
const otlpValue = fc.oneof(fc.string().map((stringValue) => ({ stringValue })), fc.integer().map((intValue) => ({ intValue })), fc.boolean().map((boolValue) => ({ boolValue })), fc.double().map((doubleValue) => ({ doubleValue: Number.isFinite(doubleValue) ? doubleValue : 0 })))
const otlpRecord = fc.record({
  timeUnixNano: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map(String), fc.constantFrom('0', 'x', -1)),
  severityNumber: fc.oneof(fc.integer({ min: 0, max: 24 }), fc.constant('INFO')),
  body: otlpValue,
  attributes: fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: otlpValue }), { maxLength: 4 }),
  traceId: fc.oneof(fc.constant(undefined), fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex')), fc.constant('nothex'))
}, { requiredKeys: [] })
const otlpRequest = fc.array(otlpRecord, { maxLength: 10 }).map((logRecords) => ({ resourceLogs: [{ scopeLogs: [{ logRecords }] }] }))
const otlpBody = fc.oneof(
  otlpRequest.map((message) => text(JSON.stringify(message))),
  fc.tuple(otlpRequest, fc.double({ min: 0, max: 1, noNaN: true })).map(([message, cut]) => {
    let bytes: Buffer
    try {
      bytes = Buffer.from(otlp.request.encode(otlp.request.fromObject(JSON.parse(JSON.stringify(message)))).finish())
    } catch {
      bytes = Buffer.alloc(0)
    }
    return cut < 0.8 ? bytes : bytes.subarray(0, Math.floor(bytes.length * cut))
  }),
  fc.constantFrom(fieldBomb(), deepKvlist(3000))
)

const hostileBody = fc.oneof(
  { arbitrary: plausibleBody, weight: 8 },
  { arbitrary: bulkBody, weight: 3 },
  { arbitrary: otlpBody, weight: 3 },
  fc.constant(GZIP_BOMB),
  { arbitrary: canaryBody, weight: 2 },
  { arbitrary: gdprBody, weight: 1 },
  fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes)),
  fc.string({ unit: 'binary', maxLength: 500 }).map(text),
  // Invalid UTF-8: a lone continuation byte, an overlong form, a surrogate.
  fc.tuple(fc.string({ maxLength: 50 }), fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff])).map(([s, bad]) => Buffer.concat([text(s), Buffer.from(bad)])),
  fc.integer({ min: 1, max: 20_000 }).map((depth) => text('['.repeat(depth) + ']'.repeat(depth))),
  fc.integer({ min: 1, max: 5_000 }).map((depth) => text('{"a":'.repeat(depth) + '1' + '}'.repeat(depth))),
  fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '[1e999, -0, 0.1e-400]', '{"n": 9007199254740993}').map(text),
  fc.constantFrom(
    '{"__proto__": {"polluted": true}}',
    '{"constructor": {"prototype": {"polluted": true}}}',
    '[{"__proto__": null}, {"event": {"__proto__": 1}}]',
    '{"event": "x", "__proto__": {"event": ""}}',
    '{"logs": [{"__proto__": {"admin": true}}]}'
  ).map(text),
  fc.integer({ min: 60_000, max: 200_000 }).map((n) => text('x'.repeat(n))),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => text('a\n'.repeat(n))),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }).map((values) => Buffer.concat(values.map((value) => Buffer.from(encode(value)))))
)

const CONTENT_TYPES = [
  'application/x-protobuf', 'application/vnd.elasticsearch+x-ndjson; compatible-with=9', undefined, 'text/plain', 'application/json', 'application/x-ndjson', 'application/x-www-form-urlencoded',
  'application/msgpack', 'application/octet-stream', 'image/png', 'application/json, text/plain',
  'application/json; charset=latin1', 'multipart/form-data; boundary=x', 'x/y;;;=', '', ';', 'APPLICATION/JSON'
]

type Coding = 'none' | 'gzip' | 'deflate' | 'br' | 'truncated gzip' | 'lies'
const CODINGS: Coding[] = ['none', 'gzip', 'deflate', 'br', 'truncated gzip', 'lies']

function encodeBody (body: Buffer, coding: Coding, cut: number): { body: Buffer, header?: string } {
  switch (coding) {
    case 'none': return { body }
    case 'gzip': return { body: gzipSync(body), header: 'gzip' }
    case 'deflate': return { body: deflateSync(body), header: 'deflate' }
    case 'br': return { body: brotliCompressSync(body), header: 'br' }
    case 'truncated gzip': {
      const zipped = gzipSync(body)
      return { body: zipped.subarray(0, Math.floor(zipped.length * cut)), header: 'gzip' }
    }
    case 'lies': return { body, header: ['gzip', 'zstd', 'gzip, br', 'identity', 'compress'][Math.floor(cut * 5)] }
  }
}

// Header junk that HTTP allows: printable ASCII values.
const junkValue = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })

// X-Logfire-Chaos directives, with short delays so the fuzz stays fast, and malformed ones.
const directive = fc.oneof(
  fc.constantFrom('off', 'fire', 'burn', 'wipe', 'reset', 'reset-after-append', 'close', 'garbage', 'hang', 'OFF', ' reset '),
  fc.integer({ min: 0, max: 5 }).map((ms) => `delay=${ms}`),
  fc.integer({ min: 0, max: 5 }).map((ms) => `slow-response=${ms}`),
  fc.integer({ min: 1_000_000, max: 100_000_000 }).map((rate) => `slow-read=${rate}`),
  fc.integer({ min: 300, max: 700 }).map((code) => `status=${code}`),
  fc.constantFrom('delay', 'delay=-1', 'status=', 'slow-read=0', 'reset=1', 'hang=forever', 'sparkle')
)

/** The directives that end a connection without an HTTP answer: they need a real socket to be seen. */
export const CUTS_THE_CONNECTION = /(^|,)\s*(reset|reset-after-append|close|garbage|hang)\s*(,|$)/i

export const hostileRequest: fc.Arbitrary<HostileRequest> = fc.record({
  url: fc.constantFrom(...Object.keys(ROUTES)),
  body: hostileBody,
  // Mostly what shippers send, so that many requests get as far as the chain.
  contentType: fc.oneof({ arbitrary: fc.constantFrom(undefined, 'text/plain', 'application/json', 'application/x-protobuf'), weight: 3 }, fc.constantFrom(...CONTENT_TYPES)),
  coding: fc.oneof({ arbitrary: fc.constant<Coding>('none'), weight: 4 }, fc.constantFrom(...CODINGS)),
  cut: fc.double({ min: 0, max: 0.99, noNaN: true }),
  chaos: fc.option(fc.oneof(
    { arbitrary: fc.array(directive, { minLength: 1, maxLength: 3 }).map((list) => list.join(', ')), weight: 3 },
    junkValue
  ), { nil: undefined, freq: 4 }),
  junk: fc.dictionary(fc.constantFrom('x-junk', 'authorization', 'dd-api-key', 'x-forwarded-for', 'accept', 'if-none-match'), junkValue, { maxKeys: 3 })
}).map(({ url, body, contentType, coding, cut, chaos, junk }) => {
  const encoded = encodeBody(body, coding, cut)
  const headers: Record<string, string> = { ...junk }
  if (contentType !== undefined) headers['content-type'] = contentType
  if (encoded.header !== undefined) headers['content-encoding'] = encoded.header
  if (chaos !== undefined) headers['x-logfire-chaos'] = chaos
  return { url, body: encoded.body, headers }
})

/** The configuration the fuzzer runs against: the default chaos, a small chain so burns happen, and short hangs. */
export function fuzzConfig (seed: string): Config {
  const config = loadConfig({})
  return { ...config, seed, rateLimit: 0, maxBlocks: 300, faults: { ...config.faults, hangMs: 20 } }
}

/** A logfire to throw requests at, and the check of every invariant after each one. */
export async function fuzzTarget (seed = 'fuzz') {
  const store = new ChainStore()
  const config = fuzzConfig(seed)
  const app = await buildApp({ config, store })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  const documented = (await app.inject({ method: 'GET', url: '/docs/json' })).json().paths as Record<string, { post: { responses: Record<string, unknown> } }>

  /** Sends one request and checks every invariant; resolves with the status, or how the connection ended. */
  async function send (request: HostileRequest): Promise<string> {
    const before = { length: store.length, epoch: store.epoch, head: store.head.hash }
    const chaos = request.headers['x-logfire-chaos'] ?? ''
    if (CUTS_THE_CONNECTION.test(chaos)) return await sendOverSocket(request, before)
    const response = await app.inject({ method: 'POST', url: request.url, payload: request.body, headers: request.headers })
    const status = response.statusCode
    const where = `${request.url} answered ${status}: ${response.body.slice(0, 300)}`
    const fail = (why: string): never => { throw new Error(`${why}\n${where}`) }

    const injected = /status=/i.test(chaos) && response.body.includes('LOGFIRE_INJECTED_STATUS')
    if (status >= 500 && status !== 503 && !injected) fail('a 5xx that is neither lp0 on fire nor a status the chaos was asked for')
    const responses = documented[ROUTES[request.url]!.documentedAs ?? request.url]!.post.responses
    if (!(String(status) in responses) && !(injected && `${String(status)[0]}XX` in responses)) fail('a status the OpenAPI document does not list')
    checkShape(ROUTES[request.url]!.shape, status, response, fail)

    const route = ROUTES[request.url]!
    checkChain(request, status === route.success, status === 410 && !injected, before, fail)
    await checkScorecard(fail)
    return String(status)
  }

  // The scorecard survives hostile tokens: it answers, stays bounded, and its counts add up.
  async function checkScorecard (fail: (why: string) => never): Promise<void> {
    const card = await app.inject({ method: 'GET', url: '/scorecard' })
    if (card.statusCode !== 200) fail(`GET /scorecard answered ${card.statusCode}`)
    const { runs } = card.json() as { runs: Array<{ delivered: number, unique: number, duplicates: number, missing: number }> }
    if (runs.length > 100) fail('the scorecard keeps more than 100 runs')
    for (const run of runs) {
      if (run.unique > run.delivered || run.duplicates !== run.delivered - run.unique || run.missing < 0) fail(`scorecard counts that do not add up: ${JSON.stringify(run)}`)
    }
  }

  // A fault that cuts the connection: the client sees no answer it can read,
  // and the chain holds the request's entries whole (the "after append"
  // faults, when it would have been accepted) or nothing.
  async function sendOverSocket (request: HostileRequest, before: ChainState): Promise<string> {
    const seen = await exchange(port, { path: request.url, body: request.body, headers: request.headers, waitMs: 5000 })
    const fail = (why: string): never => { throw new Error(`${why}\n${request.url} with X-Logfire-Chaos: ${request.headers['x-logfire-chaos']}: ${seen.ending}, ${statusOf(seen.bytes)} ${bodyOf(seen.bytes).slice(0, 200)}`) }
    if (seen.ending === 'cut') fail('the connection was held past every limit')
    const status = statusOf(seen.bytes)
    // A refusal before the fault (a 400 for a malformed directive, a 413 ...) is an ordinary answer.
    const answered = status !== undefined && !seen.bytes.includes('lp0 on fire\r\n')
    const stored = store.length !== before.length || store.epoch !== before.epoch
    const injected = bodyOf(seen.bytes).includes('LOGFIRE_INJECTED_STATUS')
    if (answered && status >= 500 && status !== 503 && !injected) fail('an unexpected 5xx')
    checkChain(request, !answered && stored, answered && status === 410 && !injected, before, fail)
    return answered ? String(status) : `connection ${seen.ending === 'reset' ? 'reset' : 'closed'}`
  }

  function checkChain (request: HostileRequest, accepted: boolean, burned: boolean, before: ChainState, fail: (why: string) => never): void {
    const verdict = verifyChain(store.toArray())
    if (!verdict.valid) fail(`the chain does not verify: ${JSON.stringify(verdict)}`)
    const route = ROUTES[request.url]!
    if (accepted) {
      // Accepted: exactly the entries of the body, in order, at the end of the chain.
      const expected = route.entries(request.body, {
        contentType: request.headers['content-type'],
        contentEncoding: request.headers['content-encoding']
      }, { maxBodyBytes: config.maxBodyBytes, maxEntryBytes: config.maxEntryBytes })
      if (store.epoch !== before.epoch || store.length !== before.length + expected.length) fail(`accepted, but the chain went from ${before.length} to ${store.length} blocks for ${expected.length} entries`)
      const stored = Array.from({ length: expected.length }, (_, i) => store.at(before.length + i)?.data)
      if (JSON.stringify(stored) !== JSON.stringify(expected)) fail('accepted, but the chain does not hold exactly its entries')
    } else if (burned) {
      if (store.length !== 1 || store.epoch !== before.epoch + 1) fail('a 410 that did not leave a bare genesis')
    } else if (store.length !== before.length || store.head.hash !== before.head || store.epoch !== before.epoch) {
      fail('refused, but the chain changed')
    }
  }

  return { app, store, send, close: () => app.close() }
}

function checkShape (shape: Shape, status: number, response: LightMyRequestResponse, fail: (why: string) => never): void {
  if (status === 204) {
    if (response.body !== '') fail('a 204 with a body')
    return
  }
  if (shape === 'otlp' && response.headers['content-type'] === 'application/x-protobuf') {
    try {
      if (status < 300) otlp.response.decode(response.rawPayload)
      else if (!String((otlp.status.toObject(otlp.status.decode(response.rawPayload)) as { message?: string }).message).startsWith('LOGFIRE_')) fail('a google.rpc.Status without logfire\'s code')
    } catch {
      fail('a protobuf reply that does not decode')
    }
    return
  }
  let body: Record<string, unknown>
  try {
    body = response.json()
  } catch {
    return fail('a reply that is not JSON')
  }
  if (status < 300) {
    if (shape === 'es' && (typeof body.errors !== 'boolean' || !Array.isArray(body.items))) fail('a _bulk reply without errors and items')
    return
  }
  if (shape === 'hec' && (typeof body.code !== 'number' || body.code === 0 || typeof body.text !== 'string')) fail('a HEC error without a non-zero HEC code')
  if (shape === 'es' && (body.status !== status || typeof (body.error as { type?: unknown } | undefined)?.type !== 'string')) fail('an Elasticsearch error without its status and type')
  if (shape === 'otlp' && typeof body.code !== 'number') fail('an OTLP error that is not a google.rpc.Status')
  const error = (shape === 'logfire' ? body : shape === 'es' ? (body.error as Record<string, unknown>).logfire : body.logfire) as Record<string, unknown> | undefined
  if (error === undefined || error.statusCode !== status || typeof error.code !== 'string' || !error.code.startsWith('LOGFIRE_') ||
    typeof error.error !== 'string' || typeof error.message !== 'string') {
    fail('an error not in the documented shape')
  }
}

// 300,000 empty OTLP log records in 600 KB of protobuf.
function fieldBomb (): Buffer {
  const records = Buffer.alloc(600_000)
  for (let i = 0; i < records.length; i += 2) records[i] = 0x12
  return nested(0x0a, nested(0x12, records))
}

// A log record whose body nests kvlistValue `depth` deep, written by hand (protobufjs refuses to encode it).
function deepKvlist (depth: number): Buffer {
  let value: Buffer = Buffer.from([0x0a, 0x01, 0x62])
  for (let i = 0; i < depth; i++) value = nested(0x32, nested(0x0a, Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b]), nested(0x12, value)])))
  return nested(0x0a, nested(0x12, nested(0x12, nested(0x2a, value))))
}

function nested (tag: number, inner: Buffer): Buffer {
  const length: number[] = []
  let n = inner.length
  while (n > 127) { length.push((n & 127) | 128); n >>>= 7 }
  length.push(n)
  return Buffer.concat([Buffer.from([tag, ...length]), inner])
}
