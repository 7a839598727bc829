import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { findEuMention } from '../src/gdpr/detect.js'
import { tokenMatcher } from '../src/http/tokens.js'
import { appsClosedAfterEach, type TestApp } from './helpers.js'

/*
 * Each claim of SECURITY.md, proven. The rate limit's client key is in
 * test/http/rate-limit.test.ts, the production image's dependencies are
 * checked when the Dockerfile builds, and the timeouts in
 * test/http/timeouts.test.ts.
 */

const start = appsClosedAfterEach()
const TOKENS = { adminToken: 'admin-t0ken-xyzzy', ingestToken: 'ingest-t0ken-xyzzy', readToken: 'read-t0ken-xyzzy', metricsToken: 'metrics-t0ken-xyzzy' }

// A request of every kind, answered well or refused.
function everyKindOfRequest (a: TestApp) {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  return [
    a.inject({ method: 'GET', url: '/' }),
    a.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } }),
    a.inject({ method: 'GET', url: '/stage.js' }),
    a.inject({ method: 'GET', url: '/healthz' }),
    a.inject({ method: 'GET', url: '/docs' }),
    a.inject({ method: 'GET', url: '/docs/json' }),
    a.inject({ method: 'GET', url: '/metrics', headers: bearer(TOKENS.metricsToken) }),
    a.inject({ method: 'GET', url: '/metrics', headers: bearer('wrong-metrics-guess') }),
    a.inject({ method: 'POST', url: '/logs', payload: 'a line', headers: bearer(TOKENS.ingestToken) }),
    a.inject({ method: 'POST', url: '/logs', payload: 'a line', headers: bearer('wrong-ingest-guess') }),
    a.inject({ method: 'POST', url: '/logs', payload: 'the EU', headers: bearer(TOKENS.ingestToken) }),
    a.inject({ method: 'POST', url: '/logs', payload: 'x', headers: { ...bearer(TOKENS.ingestToken), 'x-logfire-chaos': 'fire' } }),
    a.inject({ method: 'POST', url: '/services/collector/event', payload: '{"event":"x"}', headers: { authorization: `Splunk ${TOKENS.ingestToken}` } }),
    a.inject({ method: 'POST', url: '/api/v2/logs', payload: '{"message":"x"}', headers: { 'dd-api-key': 'wrong-dd-guess', 'content-type': 'application/json' } }),
    a.inject({ method: 'POST', url: '/loki/api/v1/push', payload: '{}', headers: { authorization: 'Basic ' + Buffer.from(`u:${TOKENS.ingestToken}`).toString('base64') } }),
    a.inject({ method: 'GET', url: '/logs', headers: bearer(TOKENS.readToken) }),
    a.inject({ method: 'GET', url: '/logs/1', headers: bearer('wrong-read-guess') }),
    a.inject({ method: 'PATCH', url: '/admin/chaos', payload: { fireRate: 0 }, headers: bearer(TOKENS.adminToken) }),
    a.inject({ method: 'DELETE', url: '/logs', headers: bearer('wrong-admin-guess') }),
    a.inject({ method: 'GET', url: '/nowhere' })
  ]
}

describe('SECURITY.md, claim by claim', () => {
  it('puts nosniff on every answer, errors included, and keeps the page\'s headers for pages: the fire page, its files and the docs', async () => {
    const a = await start(TOKENS)
    const isPage = (url = '') => url === '/' || url === '/stage.js' || url.startsWith('/docs')
    for (const response of await Promise.all(everyKindOfRequest(a))) {
      const where = `${response.raw.req.method} ${response.raw.req.url} → ${response.statusCode}`
      expect(response.headers['x-content-type-options'], where).toBe('nosniff')
      if (isPage(response.raw.req.url)) continue
      expect(response.headers['content-security-policy'], where).toBeUndefined()
      expect(response.headers['strict-transport-security'], where).toBeUndefined()
    }
    const pages = await Promise.all([
      a.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } }),
      a.inject({ method: 'GET', url: '/favicon.svg' }),
      a.inject({ method: 'GET', url: '/docs/' })
    ])
    for (const response of pages) {
      const where = `${response.raw.req.url} → ${response.statusCode}`
      expect(response.statusCode, where).toBe(200)
      expect(response.headers['content-security-policy'], where).toMatch(/default-src 'self'/)
      expect(response.headers['x-content-type-options'], where).toBe('nosniff')
      expect(response.headers['x-frame-options'], where).toBe('SAMEORIGIN')
      expect(response.headers['referrer-policy'], where).toBe('no-referrer')
      expect(response.headers['strict-transport-security'], where).toMatch(/max-age=/)
    }
  })

  it('never logs a token, right or wrong, nor a log line', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'trace' }, new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } }))
    const a = await start(TOKENS, { logger })
    await Promise.all(everyKindOfRequest(a))
    const log = lines.join('')
    expect(log).toContain('"statusCode":403') // the log did see those requests
    expect(log).not.toMatch(/t0ken-xyzzy|-guess|a line/)
  })

  it('compares every token through tokenMatcher, which works on fixed-length digests', () => {
    expect(tokenMatcher('same')('same')).toBe(true)
    expect(tokenMatcher('a much longer secret')('short')).toBe(false)
    expect(tokenMatcher('a much longer secret')('a much longer secreT')).toBe(false)
    // No token is ever compared with === or !==: they all go through tokenMatcher.
    const sources = filesUnder('src').filter((file) => file.endsWith('.ts')).map((file) => readFileSync(file, 'utf8'))
    for (const source of sources) expect(source).not.toMatch(/[Tt]oken\w*\s*[!=]==\s*(?!\s|undefined)/)
    expect(sources.join('\n')).toMatch(/timingSafeEqual\(digest\(presented\), expectedDigest\)/)
  })

  it('decides a hostile megabyte for GDPR in linear time, well under 100 ms', () => {
    const megabyte = 1024 * 1024
    const hostile = ['eu', 'european ', 'european' + ' '.repeat(1000), 'e.u', 'ü', 'a-', 'united\t'].map((unit) => unit.repeat(Math.ceil(megabyte / unit.length)).slice(0, megabyte))
    for (const text of hostile) {
      const whole = text + '!'
      const quarter = text.slice(0, megabyte / 4) + '!'
      // Once untimed: the first exec flattens each joined string (a megabyte
      // copied, and perhaps a collection of the worker's whole heap) and lets
      // the expression tier up. What is timed is then the matcher alone.
      findEuMention(whole)
      findEuMention(quarter)
      // The fastest of five runs: timings on a busy machine only ever err upwards.
      const full = fastestMs(() => findEuMention(whole))
      const part = fastestMs(() => findEuMention(quarter))
      expect(full, JSON.stringify(text.slice(0, 12))).toBeLessThan(100)
      // Four times the text, about four times the work: a quadratic matcher
      // would take sixteen times as long.
      expect(full, JSON.stringify(text.slice(0, 12))).toBeLessThan(part * 10 + 10)
    }
  })
})

function fastestMs (run: () => unknown): number {
  let fastest = Infinity
  for (let i = 0; i < 5; i++) {
    const began = performance.now()
    run()
    fastest = Math.min(fastest, performance.now() - began)
  }
  return fastest
}

function filesUnder (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })
}
