import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect } from 'vitest'
import type { AppOptions } from '../../src/app.js'
import type { Config } from '../../src/config.js'
import { CHAOS_PRESETS, NO_FAULT_SETTINGS } from '../../src/fire/faults.js'
import { it, type Defer } from '../defer.js'
import { appForTest, captureLogs, chainEntries, testConfig, type TestApp } from '../helpers.js'
import { openStream } from '../sse-client.js'
import { bodyOf, exchange, statusOf } from './raw-client.js'

/** A logfire listening on a real port: faults below the status line need real sockets. */
async function listening (defer: Defer, overrides: Partial<Config> & { logger?: AppOptions['logger'] } = {}): Promise<{ app: TestApp, port: number }> {
  const { logger, ...config } = overrides
  const app = await appForTest(defer, config, logger === undefined ? {} : { logger })
  await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, port: (app.server.address() as AddressInfo).port }
}

async function verifies (app: TestApp): Promise<void> {
  expect((await app.inject({ method: 'GET', url: '/logs/verify' })).json()).toMatchObject({ valid: true })
}

const testMemory = () => testConfig().memory
const chaos = (directives: string) => ({ headers: { 'x-logfire-chaos': directives } })

describe('faults that cut the connection, seen from the client socket', { concurrent: true }, () => {
  it('reset: a TCP RST right after the headers, and nothing stored', async ({ defer }) => {
    const { app, port } = await listening(defer)
    const seen = await exchange(port, { body: 'reset me\n', ...chaos('reset') })
    expect(seen.ending).toBe('reset')
    expect(seen.bytes.length).toBe(0)
    expect(await chainEntries(app)).toEqual([])
    await verifies(app)
  })

  it('reset-after-append: the entries are stored, then a TCP RST instead of the answer, so a retry duplicates them', async ({ defer }) => {
    const { app, port } = await listening(defer)
    const seen = await exchange(port, { body: 'stored, then reset\nand me\n', ...chaos('reset-after-append') })
    expect(seen.ending).toBe('reset')
    expect(seen.bytes.length).toBe(0)
    expect(await chainEntries(app)).toEqual(['stored, then reset', 'and me'])
    // What an at-least-once shipper does next.
    const retry = await exchange(port, { body: 'stored, then reset\nand me\n' })
    expect(statusOf(retry.bytes)).toBe(200)
    expect(await chainEntries(app)).toEqual(['stored, then reset', 'and me', 'stored, then reset', 'and me'])
    await verifies(app)
  })

  it('close: the body is read, then EOF with zero bytes, and nothing stored', async ({ defer }) => {
    const { app, port } = await listening(defer)
    const seen = await exchange(port, { body: 'closed on\n', ...chaos('close') })
    expect(seen.ending).toBe('eof')
    expect(seen.bytes.length).toBe(0)
    expect(await chainEntries(app)).toEqual([])
    await verifies(app)
  })

  it('garbage: the entries are stored, then a 200 status line and a chunked body no client can frame', async ({ defer }) => {
    const { app, port } = await listening(defer)
    const seen = await exchange(port, { body: 'garbled\n', ...chaos('garbage') })
    expect(seen.ending).toBe('eof')
    expect(statusOf(seen.bytes)).toBe(200)
    expect(seen.bytes.toString('latin1')).toContain('transfer-encoding: chunked')
    expect(await chainEntries(app)).toEqual(['garbled'])
    await verifies(app)

    // Node's own HTTP client: a framing error, right after the status line.
    const outcome = await new Promise<{ status?: number, error?: string }>((resolve) => {
      const client = httpRequest({ port, method: 'POST', path: '/logs', headers: { 'x-logfire-chaos': 'garbage', 'content-type': 'text/plain' } }, (response) => {
        response.on('error', (error: NodeJS.ErrnoException) => { resolve({ status: response.statusCode, error: error.code }) })
        response.resume()
        response.on('end', () => { resolve({ status: response.statusCode }) })
      })
      client.on('error', (error: NodeJS.ErrnoException) => { resolve({ error: error.code }) })
      client.end('garbled again\n')
    })
    expect(outcome.error).toBe('HPE_INVALID_CHUNK_SIZE')
  })

  it('hang: the body is read, then nothing at all until LOGFIRE_HANG_MS, then the connection closes; nothing stored', async ({ defer }) => {
    const { app, port } = await listening(defer, { faults: { ...NO_FAULT_SETTINGS, hangMs: 800 } })
    const seen = await exchange(port, { body: 'hung\n', ...chaos('hang') })
    expect(seen.ending).toBe('eof')
    expect(seen.bytes.length).toBe(0)
    expect(seen.ms).toBeGreaterThanOrEqual(790)
    expect(seen.ms).toBeLessThan(3000)
    expect(await chainEntries(app)).toEqual([])
  })

  it('hang: outlives no idle timeout unless configured to', async ({ defer }) => {
    const { app, port } = await listening(defer, { timeouts: { headersMs: 1000, requestMs: 2000, keepAliveMs: 1000, idleMs: 600 } })
    const seen = await exchange(port, chaos('hang'))
    expect(seen.ending).toBe('eof')
    expect(seen.bytes.length).toBe(0)
    expect(seen.ms).toBeGreaterThanOrEqual(590)
    expect(seen.ms).toBeLessThan(2500)
    expect(await chainEntries(app)).toEqual([])
  })
})

describe('faults that slow the exchange down, seen from the client socket', { concurrent: true }, () => {
  it('delay: the normal answer, no sooner than the delay, stored as normal', async ({ defer }) => {
    const { app, port } = await listening(defer)
    const seen = await exchange(port, { body: 'late\n', ...chaos('delay=400') })
    expect(statusOf(seen.bytes)).toBe(200)
    expect(seen.firstByteMs).toBeGreaterThanOrEqual(395)
    expect(await chainEntries(app)).toEqual(['late'])
  })

  it('slow-response: the status at once, the body trickled out in pieces over the time asked', async ({ defer }) => {
    const { app, port } = await listening(defer)
    const seen = await exchange(port, { body: 'trickled\n', ...chaos('slow-response=800') })
    expect(statusOf(seen.bytes)).toBe(200)
    expect(seen.firstByteMs).toBeLessThan(400)
    expect(seen.ms).toBeGreaterThanOrEqual(795)
    // In pieces: under load the event loop may join a few (4 seen, not 5).
    expect(seen.chunkTimes.length).toBeGreaterThanOrEqual(3)
    expect(JSON.parse(bodyOf(seen.bytes))).toMatchObject({ appended: 1, blocks: [{ data: 'trickled' }] })
    expect(await chainEntries(app)).toEqual(['trickled'])
  })

  it('slow-read: the upload is throttled, so the client feels the back-pressure, for at most LOGFIRE_MAX_FORCED_DELAY_MS', async ({ defer }) => {
    const { app, port } = await listening(defer, { maxBodyBytes: 32 * 1024 * 1024, maxForcedDelayMs: 2000 })
    const body = Buffer.from(('x'.repeat(1023) + '\n').repeat(8 * 1024))
    const calm = await exchange(port, { body })
    // 256 KiB/s for 2 s, then at full speed. The kernel's buffers take the
    // first few MiB at once (up to 4 MiB sent, more received): at 1 MiB/s the
    // throttle read the 2 MiB the buffers could not hold, and a slow upload
    // could end as soon as a calm one.
    const slow = await exchange(port, { body, ...chaos('slow-read=262144') })
    expect(statusOf(calm.bytes)).toBe(200)
    expect(statusOf(slow.bytes)).toBe(200)
    // The throttle's doing, not the machine's: on a loaded 2-core machine a
    // calm 8 MiB upload took 1,093 and 1,383 ms, so compare the two.
    expect(slow.uploadedMs).toBeGreaterThan(1500)
    expect(slow.uploadedMs - calm.uploadedMs).toBeGreaterThan(500)
    // The throttle hands on a tenth of a second's bytes at a time, the last
    // of its 2 s worth at 1.9 s; then the rest is read at full speed, which
    // took 75 ms on a fast day.
    expect(slow.firstByteMs).toBeGreaterThanOrEqual(1890)
    expect(slow.ms).toBeLessThan(6000)
    expect((await chainEntries(app)).length).toBe(2 * 8 * 1024)
    await verifies(app)
  })
})

describe('status=<code>', { concurrent: true }, () => {
  it.for([418, 500, 502, 504])('answers %i in logfire\'s error shape, and stores nothing', async (code, { defer }) => {
    const { app } = await listening(defer)
    const response = await app.inject({ method: 'POST', url: '/logs', payload: 'refused', headers: { 'x-logfire-chaos': `status=${code}` } })
    expect(response.statusCode).toBe(code)
    expect(response.json()).toMatchObject({ statusCode: code, code: 'LOGFIRE_INJECTED_STATUS' })
    expect(response.headers['retry-after']).toBeUndefined()
    expect(await chainEntries(app)).toEqual([])
  })

  it.for([429, 503])('sends Retry-After with a %i', async (code, { defer }) => {
    const { app } = await listening(defer)
    const response = await app.inject({ method: 'POST', url: '/logs', payload: 'refused', headers: { 'x-logfire-chaos': `status=${code}` } })
    expect(response.statusCode).toBe(code)
    expect(response.headers['retry-after']).toBe('1')
  })
})

describe('held connections', { concurrent: true }, () => {
  it('past LOGFIRE_MAX_HELD_CONNECTIONS, a fault that would hold one more answers 503 LOGFIRE_FAULT_OVERFLOW at once, storing nothing', async ({ defer }) => {
    const { app, port } = await listening(defer, { memory: { ...testMemory(), maxHeldConnections: 3 } })
    const clients = Array.from({ length: 8 }, (_, i) => exchange(port, { body: `held ${i}\n`, ...chaos('delay=1500') }))
    const seen = await Promise.all(clients)
    const statuses = seen.map((exchanged) => statusOf(exchanged.bytes))
    expect(statuses.filter((status) => status === 200)).toHaveLength(3)
    expect(statuses.filter((status) => status === 503)).toHaveLength(5)
    for (const refused of seen.filter((exchanged) => statusOf(exchanged.bytes) === 503)) {
      expect(refused.firstByteMs).toBeLessThan(1000)
      expect(refused.bytes.toString('utf8')).toContain('"code":"LOGFIRE_FAULT_OVERFLOW"')
    }
    expect((await chainEntries(app)).length).toBe(3)
    // Released when answered: the next one is held again.
    expect(statusOf((await exchange(port, chaos('delay=10'))).bytes)).toBe(200)
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/^logfire_fault_overflows_total 5$/m)
    expect(metrics).toMatch(/^logfire_held_connections 0$/m)
  })

  it('gives each fire its share (open mode): one fire\'s held connections past LOGFIRE_FIRE_MAX_HELD_CONNECTIONS overflow, and another fire still gets its own', async ({ defer }) => {
    const { app, port } = await listening(defer, { memory: { ...testMemory(), maxHeldConnections: 10 }, fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0, maxHeldConnections: 2 } })
    const create = async () => (await app.inject({ method: 'POST', url: '/fires' })).json<{ ingestToken: string }>()
    const [greedy, other] = [await create(), await create()]
    const held = (token: string, i: number) => exchange(port, { body: `held ${i}\n`, headers: { 'x-logfire-chaos': 'delay=1000', authorization: `Bearer ${token}` } })
    const seen = await Promise.all([...Array.from({ length: 5 }, (_, i) => held(greedy.ingestToken, i)), held(other.ingestToken, 5), held(other.ingestToken, 6)])
    const statuses = seen.map((exchanged) => statusOf(exchanged.bytes))
    expect(statuses.slice(0, 5).sort()).toEqual([200, 200, 503, 503, 503])
    expect(statuses.slice(5)).toEqual([200, 200])
  })

  it('ends every held connection at once when the app closes', async ({ defer }) => {
    const { app, port } = await listening(defer)
    const hung = exchange(port, chaos('hang'))
    const delayed = exchange(port, chaos('delay=60000'))
    const trickling = exchange(port, chaos('slow-response=60000'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    const closing = performance.now()
    await app.close()
    expect(performance.now() - closing).toBeLessThan(1000)
    for (const seen of await Promise.all([hung, delayed, trickling])) expect(seen.ending).not.toBe('cut')
  })
})

describe('where faults apply', { concurrent: true }, () => {
  const INGEST = [
    ['/logs', 'text/plain', 'a line'],
    ['/services/collector/event', 'application/json', '{"event":"a line"}'],
    ['/services/collector/raw', 'text/plain', 'a line'],
    ['/loki/api/v1/push', 'application/json', '{"streams":[{"stream":{},"values":[["1","a line"]]}]}'],
    ['/api/v2/logs', 'application/json', '[{"message":"a line"}]']
  ] as const

  it.for(INGEST)('on %s: reset-after-append stores the line and resets; reset stores nothing', async ([path, contentType, body], { defer }) => {
    const { app, port } = await listening(defer)
    const headers = { 'content-type': contentType }
    expect((await exchange(port, { path, body, headers: { ...headers, 'x-logfire-chaos': 'reset-after-append' } })).ending).toBe('reset')
    expect((await exchange(port, { path, body, headers: { ...headers, 'x-logfire-chaos': 'reset' } })).ending).toBe('reset')
    expect(await chainEntries(app)).toHaveLength(1)
  })

  it('on reads of the chain, too', async ({ defer }) => {
    const { port } = await listening(defer)
    expect((await exchange(port, { method: 'GET', path: '/logs', body: '', ...chaos('reset') })).ending).toBe('reset')
    const slow = await exchange(port, { method: 'GET', path: '/logs', body: '', ...chaos('slow-response=500') })
    expect(statusOf(slow.bytes)).toBe(200)
    expect(slow.ms).toBeGreaterThanOrEqual(495)
    expect(slow.bytes.toString('utf8')).toContain('my genesis block!!')
  })

  it.for(['/healthz', '/readyz', '/metrics', '/', '/docs/json', '/admin/chaos', '/logs/stream'])('never on %s, whatever the rates', async (path, { defer }) => {
    const everything = { ...NO_FAULT_SETTINGS, resetRate: 1, closeRate: 1, hangRate: 1, statusRate: 1, delayRate: 1, delayMs: 5000 }
    const { port } = await listening(defer, { faults: everything, adminToken: 'token' })
    // Under the 5 s delay every fault would add: the first /docs/json builds the OpenAPI document, slow on a busy machine.
    const seen = await exchange(port, { method: 'GET', path, body: '', headers: { 'x-logfire-chaos': 'reset', authorization: 'Bearer token', accept: 'text/event-stream' }, waitMs: 3000, untilHead: true })
    expect(statusOf(seen.bytes)).toBe(200)
    expect(seen.firstByteMs).toBeLessThan(3000)
  })
})

describe('the seeded roll', { concurrent: true }, () => {
  const hostile = { ...NO_FAULT_SETTINGS, ...CHAOS_PRESETS['hostile-network'], delayMs: 5, slowResponseMs: 20, slowReadBytesPerSecond: 1024 * 1024, hangMs: 50 }
  const outcome = (seen: Awaited<ReturnType<typeof exchange>>): string => {
    const status = statusOf(seen.bytes)
    if (status === undefined) return seen.ending
    return seen.bytes.toString('latin1').includes('lp0 on fire\r\n') ? 'garbage' : String(status)
  }

  it('gives request N the same fault for the same seed and rates, run after run', async ({ defer }) => {
    const run = async (seed: string) => {
      const { port } = await listening(defer, { seed, fireRate: 0.05, faults: { ...hostile, resetRate: 0.1, closeRate: 0.1, statusRate: 0.1 } })
      const fates: string[] = []
      for (let n = 1; n <= 80; n++) fates.push(outcome(await exchange(port, { body: `line ${n}\n` })))
      return fates
    }
    const first = await run('replay')
    expect(await run('replay')).toEqual(first)
    // Every kind of ending turned up, so the comparison means something.
    for (const kind of ['200', 'reset', 'eof']) expect(first).toContain(kind)
    expect(first.some((fate) => Number(fate) >= 400)).toBe(true)
  })

  it('rolls the rates set at runtime, and X-Logfire-Chaos: off suppresses them', async ({ defer }) => {
    const { app, port } = await listening(defer, { adminToken: 'token' })
    const patch = await app.inject({ method: 'PATCH', url: '/admin/chaos', headers: { authorization: 'Bearer token' }, payload: { resetRate: 1 } })
    expect(patch.json()).toMatchObject({ resetRate: 1 })
    const seen = await exchange(port)
    expect(seen.ending).toBe('reset')
    const settings = (await app.inject({ method: 'GET', url: '/logs/1' })).headers['x-logfire-settings']
    expect(settings).toBe('fire=0; burn=0; gdpr=on; override=on; reset=1')
    expect(statusOf((await exchange(port, chaos('off'))).bytes)).toBe(200)
  })

  it('ignores the header with LOGFIRE_CHAOS_OVERRIDE=false: no forced fault, and no 400 for a bad one', async ({ defer }) => {
    const { app, port } = await listening(defer, { chaosOverride: false })
    expect(statusOf((await exchange(port, { body: 'kept\n', ...chaos('reset') })).bytes)).toBe(200)
    expect(statusOf((await exchange(port, { body: 'kept too\n', ...chaos('sparkle') })).bytes)).toBe(200)
    expect(await chainEntries(app)).toEqual(['kept', 'kept too'])
  })
})

describe('seen and counted', { concurrent: true }, () => {
  it('each fault is one log line without the content, one event on the stream, one count in /metrics', async ({ defer }) => {
    const logs = captureLogs()
    const { app, port } = await listening(defer, { logger: logs.logger })
    const base = `http://127.0.0.1:${port}`
    const viewer = openStream(`${base}/logs/stream`)
    await viewer.connected()
    for (const directives of ['reset', 'close', 'garbage', 'status=502', 'delay=10, reset-after-append']) {
      await exchange(port, { body: 'a very private line\n', ...chaos(directives) })
    }
    // Six faults, and the blocks of the two requests that were stored.
    await viewer.waitForEvents(8)
    const faults = viewer.events.filter((event) => event.event === 'fault').map((event) => event.data)
    expect(faults).toEqual([
      { request: 1, fault: { name: 'reset' } },
      { request: 2, fault: { name: 'close' } },
      { request: 3, fault: { name: 'garbage' } },
      { request: 4, fault: { name: 'status', code: 502 } },
      { request: 5, fault: { name: 'delay', ms: 10 } },
      { request: 5, fault: { name: 'reset-after-append' } }
    ])
    viewer.close()
    const lines = logs.lines.filter((line) => line.msg === 'fault injected').map((line) => line.fault)
    expect(lines).toEqual(faults.map(({ request, fault }) => ({ ...fault, request })))
    expect(logs.text()).not.toContain('a very private line')
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    for (const name of ['reset', 'close', 'garbage', 'status', 'delay', 'reset-after-append']) {
      expect(metrics).toContain(`logfire_faults_total{fault="${name}"} 1`)
    }
  })
})

describe('LOGFIRE_MAX_ENTRIES_PER_REQUEST', { concurrent: true }, () => {
  it('refuses a bigger batch whole with 413 LOGFIRE_TOO_MANY_ENTRIES and the limit, on every ingest route, and is settable at runtime', async ({ defer }) => {
    const { app } = await listening(defer, { maxEntriesPerRequest: 2, adminToken: 'token' })
    const refused = await app.inject({ method: 'POST', url: '/logs', payload: 'one\ntwo\nthree\n' })
    expect(refused.statusCode).toBe(413)
    expect(refused.json()).toEqual({ statusCode: 413, code: 'LOGFIRE_TOO_MANY_ENTRIES', error: 'Payload Too Large', message: expect.stringContaining('at most 2'), entries: 3, limit: 2 })
    const hec = await app.inject({ method: 'POST', url: '/services/collector/event', payload: '{"event":"a"}{"event":"b"}{"event":"c"}' })
    expect(hec.statusCode).toBe(413)
    expect(hec.json()).toMatchObject({ code: 6, logfire: { code: 'LOGFIRE_TOO_MANY_ENTRIES', limit: 2 } })
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'one\ntwo\n' })).statusCode).toBe(200)
    expect(await chainEntries(app)).toEqual(['one', 'two'])

    await app.inject({ method: 'PATCH', url: '/admin/chaos', headers: { authorization: 'Bearer token' }, payload: { maxEntriesPerRequest: 0 } })
    expect((await app.inject({ method: 'POST', url: '/logs', payload: 'one\ntwo\nthree\n' })).statusCode).toBe(200)
  })
})
