import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Config } from '../../src/config.js'
import type { ConnectionReport } from '../../src/listeners/connection.js'
import { buildTestApp, chainEntries, type TestApp } from '../helpers.js'

/** The listeners' part of a test config: TCP and UDP on free ports. */
export const STREAMS: Config['streams'] = { syslogTcpPort: 0, syslogUdpPort: 0, syslogTlsPort: undefined, relpPort: undefined, forwardPort: undefined, forwardSharedKey: undefined, gelfTcpPort: undefined, gelfUdpPort: undefined, tls: undefined, maxConnections: 64, idleMs: 60_000 }

/** A logfire whose stream listeners listen on 127.0.0.1, with what a test reads back. */
export async function startListening (overrides: Partial<Config> = {}, tls?: { cert: Buffer, key: Buffer }) {
  const app = await buildTestApp({ adminToken: 'admin', ...overrides, streams: { ...STREAMS, ...overrides.streams } }, { clock: Date.now })
  const views = await app.listeners.listen('127.0.0.1', tls)
  const port = (protocol: string) => views.find((view) => view.protocol === protocol)?.port as number
  return {
    app,
    tcp: port('syslog-tcp'),
    udp: port('syslog-udp'),
    tls: port('syslog-tls'),
    relp: port('relp'),
    forward: port('forward'),
    gelfTcp: port('gelf-tcp'),
    gelfUdp: port('gelf-udp'),
    entries: () => chainEntries(app, { 'x-logfire-chaos': 'off' }),
    streams: async () => (await app.inject({ method: 'GET', url: '/streams' })).json() as { live: ConnectionReport[], recent: ConnectionReport[], refused: { connections: number, oversizedDatagrams: number }, udp: { datagrams: number } },
    scenario: async (steps: unknown[]) => {
      const response = await app.inject({ method: 'PUT', url: '/admin/scenario', payload: { steps }, headers: { authorization: 'Bearer admin' } })
      if (response.statusCode !== 200) throw new Error(response.body)
    },
    close: async () => { await app.close() }
  }
}

export type Listening = Awaited<ReturnType<typeof startListening>>

/** A raw TCP client, as a shipper's socket sees things: what it wrote, and how the connection ended. */
export async function rawClient (port: number) {
  // Half-open allowed: like a shipper that never reads, it does not answer a FIN with its own.
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  await once(socket, 'connect')
  let ending: { kind: 'fin' } | { kind: 'error', code: string } | undefined
  socket.on('end', () => { ending ??= { kind: 'fin' } })
  socket.on('error', (error: NodeJS.ErrnoException) => { ending ??= { kind: 'error', code: error.code ?? 'unknown' } })
  return {
    socket,
    /** What ended the connection first, from this side: a FIN, or an error (ECONNRESET, EPIPE). */
    get ending () { return ending },
    write: (text: string | Uint8Array) => new Promise<Error | undefined>((resolve) => {
      socket.write(text, (error) => { resolve(error ?? undefined) })
    }),
    close: () => { socket.destroy() }
  }
}

/** `<13>1 - host app - - - text`: RFC 5424, LF-framed. */
export const syslogLine = (text: string) => `<13>1 2026-12-06T10:00:00Z host app - - - ${text}\n`

export async function until (check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting')
    await sleep(20)
  }
}

export type { TestApp }
