import { once } from 'node:events'
import { get } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { flood } from '../scripts/lib/flood.js'
import { residentMb, startServer } from './server-process.js'

// The built server as a real process under the floods that memory bounds are
// for, its memory read from /proc: what the kernel counts, not what the
// process thinks it uses.

const MiB = 1024 * 1024
const sockets: Socket[] = []
afterEach(() => { for (const socket of sockets.splice(0)) socket.destroy() })

/**
 * What the process may hold beyond the chain's budget: Node.js and the app
 * (85 MB fresh, more after a long run), four 1 MB requests in flight with
 * their decoded copies, the alert queue, and the garbage V8 has not
 * collected yet. docs/operations.md, Reliability, states the same figure.
 */
const OVERHEAD_MB = 200
/**
 * Node.js 24 holds more under this flood when nothing else runs: peaks of
 * 265 to 296 MB over a 64 MiB budget in ten runs alone (Node.js 22: under
 * 264). Measured at the session's first commit too, so not a change of
 * logfire's; docs/operations.md says so, and issue 28 (memory) has it.
 */
const NODE_24_OVERHEAD_MB = 240
const overheadMb = Number(process.versions.node.split('.')[0]) >= 24 ? NODE_24_OVERHEAD_MB : OVERHEAD_MB

describe('memory under floods, as the kernel counts it', () => {
  it('stays within the chain\'s byte budget plus the stated overhead under a flood of long lines', async () => {
    const budgetMb = 64
    const server = startServer({ LOGFIRE_MAX_CHAIN_BYTES: String(budgetMb * MiB) })
    const base = await server.listening
    const result = await flood({ url: base, bytes: 400e6 })

    expect(result.failures).toEqual([])
    expect(Object.keys(result.statuses).sort()).toEqual(['200', '410'])
    // 400 MB through a 64 MiB chain: it burned, five times or more, and always in time.
    expect(result.statuses[410]).toBeGreaterThanOrEqual(5)
    const memory = residentMb(server.child.pid as number)
    expect(memory.peak).toBeLessThan(budgetMb + overheadMb)
    // A small client is never made to wait behind the flood for long; CI
    // holds the image to a second, this leaves room for a busy test run.
    expect(result.probeMaxMs).toBeLessThan(2000)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  }, 120_000)

  it('keeps viewers bounded: refuses those past the cap, drops one that never reads, and POSTs stay fast', async () => {
    const server = startServer({ LOGFIRE_MAX_STREAM_CLIENTS: '20', LOGFIRE_MAX_STREAM_LAG_BYTES: String(256 * 1024) })
    const base = await server.listening
    const { port } = new URL(base)
    const before = residentMb(server.child.pid as number).now

    // A viewer that asks for the stream and never reads a byte of it.
    const stalled = connect(Number(port), '127.0.0.1')
    sockets.push(stalled)
    await once(stalled, 'connect')
    stalled.pause()
    stalled.write('GET /logs/stream HTTP/1.1\r\nHost: x\r\n\r\n')

    // 29 more viewers that read everything: 19 get a seat, 10 are refused.
    const statuses: number[] = []
    await Promise.all(Array.from({ length: 29 }, () => new Promise<void>((resolve, reject) => {
      const request = get(`${base}/logs/stream`, (response) => {
        statuses.push(response.statusCode ?? 0)
        response.resume()
        resolve()
      }).on('error', reject)
      request.on('socket', (socket) => sockets.push(socket))
    })))
    expect(statuses.filter((status) => status === 200)).toHaveLength(19)
    expect(statuses.filter((status) => status === 503)).toHaveLength(10)

    // 12 MB of long lines, more than the kernel buffers for a socket that
    // is not read, watched by 20 viewers: each one-line POST in between
    // still answers quickly.
    const slowest = { ms: 0 }
    const line = 'viewer flood '.padEnd(8 * 1024, 'x')
    const batch = Array.from({ length: 16 }, () => line).join('\n')
    for (let i = 0; i < 96; i++) {
      expect((await fetch(`${base}/logs`, { method: 'POST', body: batch })).status).toBe(200)
      const began = performance.now()
      expect((await fetch(`${base}/logs`, { method: 'POST', body: 'one line' })).status).toBe(200)
      slowest.ms = Math.max(slowest.ms, performance.now() - began)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    expect(slowest.ms).toBeLessThan(250)

    // The stalled viewer was dropped: its connection ends once it reads.
    stalled.resume()
    if (!stalled.destroyed) await once(stalled, 'close')
    // Memory stays bounded: nothing was buffered for the viewer that never read.
    expect(residentMb(server.child.pid as number).peak - before).toBeLessThan(100)
  }, 60_000)

  it('keeps the syslog listener bounded: 1,000 idle connections holding half a frame each, and a client announcing a 2 GB frame', async () => {
    const server = startServer({ LOGFIRE_SYSLOG_TCP_PORT: '0' })
    const base = await server.listening
    const described = await (await fetch(base, { headers: { accept: 'application/json' } })).json() as { listeners: Array<{ protocol: string, port: number }> }
    const port = described.listeners.find((listener) => listener.protocol === 'syslog-tcp')?.port as number
    const before = residentMb(server.child.pid as number).now

    for (let i = 0; i < 1000; i++) {
      const socket = connect(port, '127.0.0.1')
      sockets.push(socket)
      socket.on('error', () => {})
      await once(socket, 'connect')
      socket.write('<13>1 - host app - - - half a line that never ends ' + 'x'.repeat(100))
    }
    // 2 GB announced, then 64 MB of it sent as fast as the socket takes it: the count alone closes the connection.
    const huge = connect(port, '127.0.0.1')
    sockets.push(huge)
    const hugeSocket = { ended: false }
    huge.on('error', () => { hugeSocket.ended = true })
    huge.on('close', () => { hugeSocket.ended = true })
    await once(huge, 'connect')
    huge.write('2000000000 <13>1 - host app - - - ')
    const chunk = Buffer.alloc(1024 * 1024, 'x')
    for (let sent = 0; sent < 64 && !hugeSocket.ended; sent++) {
      if (!huge.write(chunk)) await Promise.race([once(huge, 'drain'), once(huge, 'close')]).catch(() => {})
    }
    expect(hugeSocket.ended).toBe(true)

    const streams = await (await fetch(`${base}/streams`)).json() as { live: unknown[], recent: Array<{ endedBy: string, cutBytes: number }> }
    expect(streams.live).toHaveLength(1000)
    expect(streams.recent.at(-1)?.endedBy).toBe('frame-too-long')
    // What 1,000 connections cost, a partial frame each: far less than a MB apiece.
    expect(residentMb(server.child.pid as number).peak - before).toBeLessThan(60)
    // And the listener still takes a whole message.
    const client = connect(port, '127.0.0.1')
    sockets.push(client)
    await once(client, 'connect')
    client.write('<13>1 - host app - - - still listening\n')
    for (let attempt = 0; attempt < 100; attempt++) {
      const logs = await (await fetch(`${base}/logs`)).json() as Array<{ data: string }>
      if (logs.at(-1)?.data.endsWith('still listening') === true) return
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    throw new Error('the message sent after the flood was never stored')
  }, 60_000)
})
