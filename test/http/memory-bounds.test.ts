import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig, type MemoryBudgets } from '../../src/config.js'
import { appsClosedAfterEach, chainEntries, post } from '../helpers.js'
import { openStream } from '../sse-client.js'

const start = appsClosedAfterEach()
const sockets: Socket[] = []
const streams: Array<ReturnType<typeof openStream>> = []
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy()
  for (const stream of streams.splice(0)) stream.close()
})

const KiB = 1024
const MiB = 1024 * KiB

/** The default budgets, with some changed. */
const memory = (budgets: Partial<MemoryBudgets>) => ({ memory: { ...loadConfig({}).memory, ...budgets } })

async function listening (...args: Parameters<typeof start>) {
  const app = await start(...args)
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  return { app, base, port: Number(new URL(base).port) }
}

/** A raw request whose body is sent only in part, so it stays in flight until the test ends it. */
async function partialUpload (port: number, contentLength: number, sent: string): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  await once(socket, 'connect')
  socket.write(`POST /logs HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: ${contentLength}\r\n\r\n${sent}`)
  return socket
}

/** Everything a socket receives until the server closes it. */
async function readToEnd (socket: Socket): Promise<string> {
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  socket.resume()
  if (!socket.readableEnded && !socket.destroyed) await once(socket, 'close')
  return Buffer.concat(chunks).toString('utf8')
}

describe('the chain\'s byte budget (LOGFIRE_MAX_CHAIN_BYTES)', () => {
  const line = 'x'.repeat(10 * KiB)

  it('burns the chain (410, memory budget) when an append would take its text past the budget, chaos off or not', async () => {
    const a = await start(memory({ maxChainBytes: 100 * KiB }))
    for (let i = 0; i < 9; i++) expect((await post(a, line)).statusCode).toBe(200)
    const over = await post(a, line, { 'x-logfire-chaos': 'off' })
    expect(over.statusCode).toBe(410)
    expect(over.json()).toMatchObject({ code: 'LOGFIRE_BURNED', reason: 'memory budget', burned: 9 })
    // The request that crossed the budget is not stored; the next starts a new chain.
    expect(await chainEntries(a)).toEqual([])
    expect((await post(a, 'after')).statusCode).toBe(200)
    expect(await chainEntries(a)).toEqual(['after'])
  })

  it('burns even an empty chain for a request bigger than the whole budget, and stores nothing', async () => {
    const a = await start({ ...memory({ maxChainBytes: 64 * KiB }), maxEntryBytes: MiB })
    expect((await post(a, 'y'.repeat(70 * KiB))).json()).toMatchObject({ reason: 'memory budget', burned: 0 })
    expect(await chainEntries(a)).toEqual([])
  })

  it('is shown by GET /', async () => {
    const a = await start(memory({ maxChainBytes: 123 * KiB }))
    const response = await a.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } })
    expect(response.json().chaos.maxChainBytes).toBe(123 * KiB)
  })
})

describe('request bodies in flight (LOGFIRE_MAX_INFLIGHT_BYTES)', () => {
  it('refuses an upload with a 503 while others hold the budget, and takes it once they are done', async () => {
    const { app, base, port } = await listening({ ...memory({ maxInflightBytes: 100 * KiB }), maxEntryBytes: MiB })
    const first = await partialUpload(port, 80 * KiB, 'first ')
    await new Promise((resolve) => setTimeout(resolve, 50))

    const refused = await fetch(`${base}/logs`, { method: 'POST', body: 'z'.repeat(30 * KiB) })
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('1')
    expect(await refused.json()).toMatchObject({ statusCode: 503, code: 'LOGFIRE_BUSY', error: 'Service Unavailable' })

    // A HEC client is told in its own terms: code 9, server is busy.
    const hec = await fetch(`${base}/services/collector/event`, { method: 'POST', body: JSON.stringify({ event: 'h'.repeat(30 * KiB) }) })
    expect(hec.status).toBe(503)
    expect(await hec.json()).toMatchObject({ code: 9, text: 'Server is busy', logfire: { code: 'LOGFIRE_BUSY' } })

    // Small requests still fit beside the first upload.
    expect((await fetch(`${base}/logs`, { method: 'POST', body: 'small' })).status).toBe(200)

    first.write('x'.repeat(80 * KiB - 'first '.length))
    expect(await readToEnd(first.end())).toMatch(/^HTTP\/1.1 200/)
    expect((await fetch(`${base}/logs`, { method: 'POST', body: 'z'.repeat(30 * KiB) })).status).toBe(200)
    expect(await chainEntries(app)).toEqual(['small', 'first ' + 'x'.repeat(80 * KiB - 6), 'z'.repeat(30 * KiB)])
  })

  it('gives the budget back when a client hangs up mid-upload', async () => {
    const { base, port } = await listening(memory({ maxInflightBytes: 100 * KiB }))
    const first = await partialUpload(port, 90 * KiB, 'part')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await fetch(`${base}/logs`, { method: 'POST', body: 'z'.repeat(20 * KiB) })).status).toBe(503)
    first.destroy()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await fetch(`${base}/logs`, { method: 'POST', body: 'z'.repeat(20 * KiB) })).status).toBe(200)
  })

  it('always lets one upload in, however big, and never counts reads', async () => {
    const a = await start({ ...memory({ maxInflightBytes: 2 * KiB }), maxEntryBytes: MiB })
    expect((await post(a, 'q'.repeat(100 * KiB))).statusCode).toBe(200)
    expect((await a.inject({ method: 'GET', url: '/logs' })).statusCode).toBe(200)
  })
})

describe('event-stream viewers', () => {
  it('refuses a viewer past LOGFIRE_MAX_STREAM_CLIENTS with a 503, and takes one again when a seat frees', async () => {
    const { base } = await listening(memory({ maxStreamClients: 2 }))
    const watch = async () => {
      const stream = openStream(`${base}/logs/stream`)
      streams.push(stream)
      await stream.connected()
      return stream
    }
    const [one] = [await watch(), await watch()]
    const third = await watch()
    expect(third.response?.statusCode).toBe(503)
    expect(third.response?.headers['retry-after']).toBe('5')
    one?.close()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await watch()).response?.statusCode).toBe(200)
  })

  it('drops a viewer that stops reading once it is LOGFIRE_MAX_STREAM_LAG_BYTES behind, and frees its seat', async () => {
    const { base, port } = await listening({ ...memory({ maxStreamClients: 2, maxStreamLagBytes: 256 * KiB }), maxEntryBytes: MiB })
    // A viewer that sends its request and never reads a byte.
    const stalled = connect(port, '127.0.0.1')
    sockets.push(stalled)
    await once(stalled, 'connect')
    stalled.pause()
    stalled.write('GET /logs/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n')
    const reading = openStream(`${base}/logs/stream`)
    streams.push(reading)
    await reading.connected()

    // Far more than the socket buffers hold: the stalled viewer falls behind.
    const line = 'w'.repeat(60 * KiB)
    const body = Array.from({ length: 16 }, () => line).join('\n')
    for (let i = 0; i < 8; i++) {
      expect((await fetch(`${base}/logs`, { method: 'POST', body })).status).toBe(200)
      await reading.waitForEvents(16 * (i + 1))
    }

    // Its connection is closed: whatever it reads now ends.
    const received = await readToEnd(stalled)
    expect(received).toMatch(/^HTTP\/1.1 200/)
    expect(received.length).toBeLessThan(8 * body.length)
    // The viewer that reads keeps up and keeps its seat; the stalled one's is free.
    expect(reading.ended).toBe(false)
    const another = openStream(`${base}/logs/stream`)
    streams.push(another)
    await another.connected()
    expect(another.response?.statusCode).toBe(200)
  })

  it('starts a viewer of long lines, or one that comes back too far behind, within the lag it is allowed', async () => {
    const { base } = await listening({ ...memory({ maxStreamLagBytes: 256 * KiB }), maxEntryBytes: MiB })
    const line = 'v'.repeat(60 * KiB)
    await fetch(`${base}/logs`, { method: 'POST', body: Array.from({ length: 16 }, () => line).join('\n') })
    const stream = openStream(`${base}/logs/stream`, { 'last-event-id': '0-1' })
    streams.push(stream)
    await stream.connected()
    // At most half the lag's worth of the newest blocks: two 60 KB blocks, ending at the head.
    await stream.waitForEvents(2)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(stream.events.map((event) => event.id)).toEqual(['0-15', '0-16'])
  })
})

describe('admin routes (LOGFIRE_ADMIN_RATE_LIMIT)', () => {
  it('are rate limited per client, across every admin route, right token or wrong, so a token cannot be guessed at network speed', async () => {
    const a = await start({ adminToken: 'right', adminRateLimit: 3 })
    const guess = (token: string, method: 'GET' | 'DELETE' = 'GET', url = '/admin/chaos') => a.inject({ method, url, headers: { authorization: `Bearer ${token}` } })
    expect((await guess('wrong-1')).statusCode).toBe(401)
    expect((await guess('wrong-2')).statusCode).toBe(401)
    const allowed = await guess('right')
    expect(allowed.statusCode).toBe(200)
    expect(allowed.headers['x-ratelimit-remaining']).toBeUndefined()
    const limited = await guess('right')
    expect(limited.statusCode).toBe(429)
    expect(limited.json()).toMatchObject({ code: 'LOGFIRE_RATE_LIMITED' })
    expect(limited.headers['x-ratelimit-remaining']).toBe('0')
    expect((await guess('right', 'DELETE', '/logs')).statusCode).toBe(429)
    expect((await guess('right', 'GET', '/alerts')).statusCode).toBe(429)
    // The chain's own routes keep their own limit.
    expect((await post(a, 'still fine')).statusCode).toBe(200)
  })
})
