import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import type { AppOptions } from '../../../src/app.js'
import type { Config } from '../../../src/config.js'
import { buildTestApp, chainEntries } from '../../helpers.js'
import { openStream } from '../../sse-client.js'

/**
 * A logfire listening on 127.0.0.1 for a real client to ship to, with what a
 * test needs to watch it: the chain, the requests it answered (from its own
 * request log) and the events of its stream.
 */
export async function startLogfire (overrides: Partial<Config> = {}, options: Pick<AppOptions, 'scenario'> = {}) {
  const requestLog: Array<{ method: string, url: string, statusCode: number }> = []
  const logStream = new Writable({
    write (chunk, _encoding, done) {
      const line = JSON.parse(String(chunk))
      if (line.msg === 'request') requestLog.push(line)
      done()
    }
  })
  const app = await buildTestApp({ adminToken: 'admin-token', ...overrides }, { ...options, logger: pino({ level: 'info' }, logStream), clock: Date.now })
  const base = await app.listen({ port: 0, host: '127.0.0.1' })
  // The headers each request arrived with, from the socket's side of Fastify.
  const arrivals: Array<{ method: string, url: string, headers: Record<string, string | string[] | undefined> }> = []
  app.server.on('request', (request: { method: string, url: string, headers: Record<string, string | string[] | undefined> }) => {
    arrivals.push({ method: request.method, url: request.url, headers: request.headers })
  })
  const stream = openStream(`${base}/logs/stream`)
  await stream.connected()

  return {
    base,
    port: Number(new URL(base).port),
    // Read with the chaos off, so a test with lp0 at 50% can still read its chain.
    entries: () => chainEntries(app, { 'x-logfire-chaos': 'off' }),
    app,
    /** POSTs to one path, in the order they were answered. */
    posts: (url: string) => requestLog.filter((line) => line.method === 'POST' && line.url === url),
    /** The headers of each request to one path, as they arrived. */
    headersOf: (path: string) => arrivals.filter((arrival) => arrival.url.split('?')[0] === path).map((arrival) => arrival.headers),
    /** Requests of one method to one path, query string left off. */
    requests: (method: string, path: string) => requestLog.filter((line) => line.method === method && line.url.split('?')[0] === path),
    /** Stream events of one type: block, burn, fire, gdpr. */
    events: (type: string) => stream.events.filter((event) => event.event === type),
    /** Stops honouring X-Logfire-Chaos, as a speaker would from the admin panel. */
    ignoreChaosHeader: () => app.inject({
      method: 'PATCH', url: '/admin/chaos', payload: { override: false }, headers: { authorization: 'Bearer admin-token' }
    }),
    close: async () => {
      stream.close()
      await app.close()
    }
  }
}

export type Logfire = Awaited<ReturnType<typeof startLogfire>>

/** Polls until `check` passes, for up to `timeoutMs`; then fails with its last error. */
export async function eventually (check: () => unknown | Promise<unknown>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await check()
      return
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(50)
    }
  }
}

export const lines = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix} ${i + 1}`)
