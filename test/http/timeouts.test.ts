import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { appsClosedAfterEach, chainEntries } from '../helpers.js'

const start = appsClosedAfterEach()
const sockets: Socket[] = []
afterEach(() => { for (const socket of sockets.splice(0)) socket.destroy() })

const timeouts = { headersMs: 1000, requestMs: 2000, keepAliveMs: 5000, idleMs: 10_000 }

async function listening (overrides = {}) {
  const a = await start({ timeouts, ...overrides })
  const base = await a.listen({ port: 0, host: '127.0.0.1' })
  return { a, base, port: Number(new URL(base).port) }
}

/** A raw connection that records what the server sent and when it closed. */
function rawClient (port: number) {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  let received = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => { received += chunk })
  socket.on('error', () => {})
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now())))
  return { socket, closed, received: () => received }
}

/** Writes `text` a byte at a time every `everyMs`, until it is all sent or the socket closes. */
async function trickle (socket: Socket, text: string, everyMs: number) {
  for (const byte of text) {
    if (socket.destroyed || socket.writableEnded) return
    socket.write(byte)
    await sleep(everyMs)
  }
}

describe('timeouts against slow clients', () => {
  it('cuts off a slowloris client that sends its headers a byte at a time, while others are served', async () => {
    const { base, port } = await listening()
    const slow = rawClient(port)
    const began = Date.now()
    trickle(slow.socket, 'POST /logs HTTP/1.1\r\nHost: logfire\r\nX-Padding: ' + 'z'.repeat(200), 100).catch(() => {})

    // Meanwhile, an ordinary client gets its answers.
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${base}/logs`, { method: 'POST', body: `served ${i}` })
      expect(response.status).toBe(200)
      await sleep(200)
    }

    const closedAt = await slow.closed
    expect(closedAt - began).toBeGreaterThanOrEqual(timeouts.headersMs)
    expect(closedAt - began).toBeLessThan(timeouts.headersMs + 3000)
    expect(slow.received()).toMatch(/^HTTP\/1\.1 408/)
  })

  it('cuts off a large body uploaded too slowly, and stores none of it', async () => {
    const { a, port } = await listening()
    const slow = rawClient(port)
    const began = Date.now()
    slow.socket.write('POST /logs HTTP/1.1\r\nHost: logfire\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n')
    trickle(slow.socket, 'slow line\n'.repeat(10_000), 20).catch(() => {})
    const closedAt = await slow.closed
    expect(closedAt - began).toBeGreaterThanOrEqual(timeouts.requestMs)
    expect(closedAt - began).toBeLessThan(timeouts.requestMs + 3000)
    expect(await chainEntries(a)).toEqual([])
  })
})

describe('timeout configuration', () => {
  it('has defaults that outlast the stream heartbeat, and refuses headers longer than the request', () => {
    expect(loadConfig({}).timeouts).toEqual({ headersMs: 10_000, requestMs: 30_000, keepAliveMs: 72_000, idleMs: 120_000 })
    expect(() => loadConfig({ LOGFIRE_HEADERS_TIMEOUT_MS: '60000' })).toThrow(/LOGFIRE_HEADERS_TIMEOUT_MS \(60000\) must not be over LOGFIRE_REQUEST_TIMEOUT_MS/)
  })
})
