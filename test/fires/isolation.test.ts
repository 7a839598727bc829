import { randomBytes } from 'node:crypto'
import { describe, expect, inject, it } from 'vitest'
import type { Config } from '../../src/config.js'
import { appsClosedAfterEach, testConfig, type TestApp } from '../helpers.js'
import { redisMissing } from '../redis-server.js'

const build = appsClosedAfterEach()

interface NewFire { id: string, ingestToken: string, viewToken: string, adminToken: string }

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** Every slot a shipper may carry a token in, for one token. */
const slots = (token: string): Array<Record<string, string>> => [
  { authorization: `Bearer ${token}` },
  { authorization: `Splunk ${token}` },
  { authorization: `ApiKey ${token}` },
  { authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}` },
  { 'dd-api-key': token }
]

/** What the outside world can see of fire B. */
async function stateOf (app: TestApp, b: NewFire) {
  return {
    chain: (await app.inject({ url: '/logs', headers: bearer(b.viewToken) })).body,
    settings: (await app.inject({ url: '/admin/chaos', headers: bearer(b.adminToken) })).body,
    scorecard: (await app.inject({ url: '/scorecard', headers: bearer(b.viewToken) })).body,
    scenario: (await app.inject({ url: '/admin/scenario', headers: bearer(b.adminToken) })).body
  }
}

describe('fire A\'s tokens never reach fire B', () => {
  // In Redis, fires are kept by a registry of their own and each chain under its own hash tag: the walk holds there too.
  const stores: Array<[string, () => Partial<Config>]> = [['in memory', () => ({})]]
  if (redisMissing === '') stores.push(['in Redis', () => ({ redis: { url: inject('redisUrl'), namespace: `isolation-${randomBytes(4).toString('hex')}`, replica: 'only' } })])
  it.each(stores)('walks every route of the OpenAPI document with A\'s three tokens in every slot: B is never shown, never changed (fires %s)', async (_, store) => {
    const app = await build({ fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 }, adminToken: 'operator-secret', ...store() })
    const create = async () => (await app.inject({ method: 'POST', url: '/fires' })).json<NewFire>()
    const a = await create()
    const b = await create()
    const secretLine = 'fire B keeps this to itself 7f3a9c'
    expect((await app.inject({ method: 'POST', url: '/logs', payload: secretLine, headers: bearer(b.ingestToken) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'PUT', url: '/scorecard/run-of-b', headers: bearer(b.ingestToken) })).statusCode).toBe(200)
    expect((await app.inject({ method: 'PATCH', url: '/admin/chaos', payload: { delayMs: 1234 }, headers: bearer(b.adminToken) })).statusCode).toBe(200)
    const seedOfB = (await app.inject({ method: 'POST', url: '/logs', payload: 'x', headers: bearer(b.ingestToken) })).headers['x-logfire-seed'] as string
    const before = await stateOf(app, b)
    const secrets = [secretLine, 'run-of-b', b.id, b.ingestToken, b.viewToken, b.adminToken, seedOfB]

    const document = app.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>> }
    let requests = 0
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        // An event stream never ends: the stream has a test of its own below.
        if (operation.responses['200']?.content?.['text/event-stream'] !== undefined) continue
        const url = path.replace('{index}', path.startsWith('/logs') ? '1' : 'logs').replace('{run}', 'run-of-b').replace('{id}', b.id).replace(/\{[^}]+\}/g, 'x')
        for (const token of [a.ingestToken, a.viewToken, a.adminToken]) {
          for (const headers of slots(token)) {
            const answer = await app.inject({ method: method.toUpperCase() as 'GET', url, headers: { ...headers, 'content-type': 'application/json' }, ...(method === 'get' || method === 'head' || method === 'delete' ? {} : { payload: '{}' }) })
            requests++
            // What the URL itself says (a run's name) may be echoed back; nothing else of B.
            for (const secret of secrets.filter((secret) => !url.includes(secret))) expect(answer.body, `${method.toUpperCase()} ${url} showed B's data`).not.toContain(secret)
          }
        }
      }
    }
    expect(requests).toBeGreaterThan(400)
    expect(await stateOf(app, b)).toEqual(before)
  })

  it('streams A\'s events to A\'s viewers alone', async () => {
    const app = await build({ fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 } })
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const create = async () => (await app.inject({ method: 'POST', url: '/fires' })).json<NewFire>()
    const a = await create()
    const b = await create()
    const controller = new AbortController()
    const stream = await fetch(`http://127.0.0.1:${port}/logs/stream`, { headers: bearer(a.viewToken), signal: controller.signal })
    expect(stream.status).toBe(200)
    await app.inject({ method: 'POST', url: '/logs', payload: 'a line of B', headers: bearer(b.ingestToken) })
    await app.inject({ method: 'POST', url: '/logs', payload: 'a line of A', headers: bearer(a.ingestToken) })
    const reader = stream.body!.getReader()
    let text = ''
    while (!text.includes('a line of A')) text += new TextDecoder().decode((await reader.read()).value)
    controller.abort()
    expect(text).not.toContain('a line of B')
  })
})
