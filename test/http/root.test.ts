import { describe, expect, it } from 'vitest'
import { appsClosedAfterEach, post } from '../helpers.js'

const start = appsClosedAfterEach()

describe('GET /', () => {
  it('describes the service to curl as JSON', async () => {
    const app = await start({ seed: 'stage', fireRate: 0.05, burnRate: 0.02, adminToken: 't' }, { version: '1.2.3' })
    await post(app, 'a line')
    const response = await app.inject({ method: 'GET', url: '/', headers: { accept: '*/*' } })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    const body = response.json()
    expect(body).toMatchObject({
      name: 'logfire.io',
      version: '1.2.3',
      chaos: { fireRate: 0.05, burnRate: 0.02, gdpr: true, seed: 'stage', maxBlocks: 100_000, rateLimit: 0, override: true },
      admin: true,
      chain: { length: 2, head: expect.stringMatching(/^[0-9a-f]{64}$/) }
    })
    expect(body.endpoints).toContainEqual({ method: 'POST', path: '/logs', description: expect.any(String) })
    expect(body.endpoints).toContainEqual({ method: 'GET', path: '/logs/stream', description: expect.any(String) })
  })

  it('lists every documented route, from the routes themselves, and the burn rate by both its names', async () => {
    const app = await start({ adminToken: 't', burnRate: 0.3 })
    const body = (await app.inject({ method: 'GET', url: '/', headers: { accept: 'application/json' } })).json()
    const listed = new Set((body.endpoints as Array<{ method: string, path: string }>).map((e) => `${e.method} ${e.path}`))
    const documented = Object.entries((await app.inject({ method: 'GET', url: '/docs/json' })).json().paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).filter((m) => m !== 'head').map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`))
    for (const route of documented) expect(listed).toContain(route)
    for (const route of ['GET /alerts', 'POST /admin/balloon/off', 'GET /services/collector/health', 'GET /readyz', 'GET /docs']) expect(listed).toContain(route)
    expect(body.chaos).toMatchObject({ burnRate: 0.3, wipeRate: 0.3 })
  })

  it('serves the fire page to a browser, under a strict Content-Security-Policy', async () => {
    const app = await start()
    const response = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(response.body).toContain('<script type="module" src="/stage.js"></script>')
    expect(response.body).not.toMatch(/<script>|<script type="module">|\son[a-z]+=/)
    const csp = String(response.headers['content-security-policy'])
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("style-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('upgrade-insecure-requests')
  })

  it.each(['/stage.js', '/stage.css', '/favicon.svg', '/printer.svg'])('serves %s', async (path) => {
    const app = await start()
    const response = await app.inject({ method: 'GET', url: path })
    expect(response.statusCode).toBe(200)
    expect(response.headers['x-content-type-options']).toBe('nosniff')
  })
})
