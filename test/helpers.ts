import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterEach } from 'vitest'
import { buildApp, type AppOptions } from '../src/app.js'
import { loadConfig, type Config } from '../src/config.js'
import type { Defer } from './defer.js'

/** A calm configuration: no random fire or wipe, no rate limit, a fixed seed. */
export function testConfig (overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({}),
    fireRate: 0,
    burnRate: 0,
    rateLimit: 0,
    seed: 'test',
    ...overrides
  }
}

export async function buildTestApp (overrides: Partial<Config> = {}, options: Omit<AppOptions, 'config'> = {}) {
  const app = await buildApp({ clock: () => 1_700_000_000_000, ...options, config: testConfig(overrides) })
  await app.ready()
  return app
}

export function post (app: Awaited<ReturnType<typeof buildTestApp>>, body: string | Buffer, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/logs', payload: body, headers })
}

export type TestApp = Awaited<ReturnType<typeof buildTestApp>>

async function closeNow (app: TestApp): Promise<void> {
  app.server.closeAllConnections()
  await app.close()
}

/** An app closed when its test ends (test/defer.ts), so that a file's tests can run concurrently. */
export async function appForTest (defer: Defer, ...args: Parameters<typeof buildTestApp>): Promise<TestApp> {
  const app = await buildTestApp(...args)
  defer(async () => { await closeNow(app) })
  return app
}

/** A builder of apps for one test file: every app it builds is closed after each test. */
export function appsClosedAfterEach () {
  const apps: TestApp[] = []
  // Teardown cuts every socket first: a test that left a client mid-stream
  // must not hold the next test up while the server waits for it.
  afterEach(async () => {
    await Promise.all(apps.splice(0).map(closeNow))
  })
  return async function start (...args: Parameters<typeof buildTestApp>): Promise<TestApp> {
    const a = await buildTestApp(...args)
    apps.push(a)
    return a
  }
}

/** The data of every block after genesis, read back through GET /logs. */
export async function chainEntries (app: TestApp, headers: Record<string, string> = {}): Promise<string[]> {
  const response = await app.inject({ method: 'GET', url: '/logs', headers })
  return (response.json() as Array<{ data: string }>).slice(1).map((block) => block.data)
}

/** A pino logger whose lines a test can read back, parsed. */
export function captureLogs () {
  const lines: Array<Record<string, unknown>> = []
  const stream = new Writable({
    write (chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)))
      done()
    }
  })
  return { lines, logger: pino({ level: 'info' }, stream), text: () => JSON.stringify(lines) }
}

/** Reads until `done` holds of what it read, and answers that; throws after `ms`. */
export async function readUntil<T> (read: () => Promise<T>, done: (value: T) => boolean, ms = 5000): Promise<T> {
  const began = Date.now()
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() - began > ms) throw new Error(`timed out; last ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}
