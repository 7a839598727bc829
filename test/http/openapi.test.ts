import { readdirSync } from 'node:fs'
import { compileErrors, validate } from '@readme/openapi-parser'
import { describe, expect, it } from 'vitest'
import { appsClosedAfterEach, type TestApp } from '../helpers.js'

const start = appsClosedAfterEach()
const PUBLIC_FILES = new Set(readdirSync(new URL('../../public/', import.meta.url)).map((file) => `/${file}`))

/** Every method and path the app registers, read from Fastify's own route tree. */
function registeredRoutes (app: TestApp): string[] {
  const stack: string[] = []
  const routes: string[] = []
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /── (\S+) \(([A-Z, ]+)\)$/.exec(line)
    if (match === null) continue
    const depth = (line.indexOf('── ') - 1) / 4
    const path = (stack[depth - 1] ?? '') + match[1]
    stack[depth] = path
    for (const method of (match[2] as string).split(', ')) routes.push(`${method} ${path}`)
  }
  return routes
}

const openApiPath = (path: string) => path.replace(/:(\w+)/g, '{$1}')

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1', async () => {
    const app = await start()
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
    expect(document.openapi).toBe('3.1.0')
    const result = await validate(structuredClone(document))
    expect(result.valid ? 'valid' : compileErrors(result)).toBe('valid')
  })

  it('lists every route the app registers, but for HEAD, the docs themselves and static files', async () => {
    const app = await start()
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`))
    const registered = registeredRoutes(app)
      .filter((route) => {
        const [method, path] = route.split(' ') as [string, string]
        return method !== 'HEAD' && !path.startsWith('/docs') && !PUBLIC_FILES.has(path)
      })
      .map((route) => openApiPath(route))
    expect(registered).toContain('POST /logs')
    expect(registered).toContain('GET /logs/{index}')
    expect(documented.sort()).toEqual(registered.sort())
  })

  it('documents every status code and header a client of an ingest route can meet', async () => {
    const app = await start()
    const document = (await app.inject({ method: 'GET', url: '/docs/json' })).json()
    for (const [path, success] of [['/logs', '200'], ['/services/collector/event', '200'], ['/loki/api/v1/push', '204'], ['/api/v2/logs', '202']]) {
      const operation = document.paths[path as string].post
      expect(Object.keys(operation.responses).sort(), path).toEqual([success, '400', '401', '403', '410', '413', '415', '429', '451', '503', '4XX', '5XX'].sort())
      expect(Object.keys(operation.responses[success as string].headers), path).toEqual(['x-logfire-seed', 'x-logfire-request', 'x-logfire-settings'])
      expect(operation.responses['503'].headers).toHaveProperty('retry-after')
      expect(operation.responses['451'].headers).toHaveProperty('link')
      expect(operation.responses['5XX'].description).toContain('LOGFIRE_INJECTED_STATUS')
      expect(operation.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'x-logfire-chaos' }))
      expect(operation.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'content-encoding' }))
      expect(operation.security.length, path).toBeGreaterThan(1)
    }
    expect(document.paths['/logs'].get.responses['200'].headers).toHaveProperty('etag')
    expect(document.paths['/logs'].get.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'if-none-match' }))
    expect(document.paths['/logs/stream'].get.parameters).toContainEqual(expect.objectContaining({ in: 'header', name: 'last-event-id' }))
    expect(document.paths['/logs'].post.requestBody.content).toHaveProperty('application/msgpack')
  })

  it('is browsable with Swagger UI at /docs', async () => {
    const app = await start()
    const page = await app.inject({ method: 'GET', url: '/docs' })
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toMatch(/^text\/html/)
    expect(page.headers['content-security-policy']).not.toContain('upgrade-insecure-requests')
  })
})
