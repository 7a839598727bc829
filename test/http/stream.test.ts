import { afterEach, describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers.js'
import { openStream } from '../sse-client.js'

type App = Awaited<ReturnType<typeof buildTestApp>>
const apps: App[] = []
const streams: Array<ReturnType<typeof openStream>> = []
afterEach(async () => {
  for (const stream of streams.splice(0)) stream.close()
  await Promise.all(apps.splice(0).map((a) => a.close()))
})

async function start (...args: Parameters<typeof buildTestApp>) {
  const a = await buildTestApp(...args)
  apps.push(a)
  const base = await a.listen({ port: 0, host: '127.0.0.1' })
  const send = (method: string, path: string, init: { body?: string, headers?: Record<string, string> } = {}) =>
    fetch(`${base}${path}`, { method, body: init.body, headers: init.headers })
  const watch = async (headers: Record<string, string> = {}) => {
    const stream = openStream(`${base}/logs/stream`, headers)
    streams.push(stream)
    await stream.connected()
    return stream
  }
  return { app: a, base, send, watch }
}

const brief = (events: Array<{ id: string | undefined, event: string, data: any }>) =>
  events.map((e) => `${e.id} ${e.event} ${e.event === 'block' ? e.data.data : JSON.stringify(e.data)}`)

describe('GET /logs/stream', () => {
  it('is an event stream that sends the recent blocks to a new viewer', async () => {
    const { send, watch } = await start()
    await send('POST', '/logs', { body: 'earlier\nlines' })
    const stream = await watch()
    expect(stream.response?.statusCode).toBe(200)
    expect(stream.response?.headers['content-type']).toBe('text/event-stream')
    expect(stream.response?.headers['cache-control']).toBe('no-cache')
    await stream.waitForEvents(2)
    expect(brief(stream.events)).toEqual(['0-1 block earlier', '0-2 block lines'])
    expect(stream.events[0]?.data).toMatchObject({ index: 1, data: 'earlier', hash: expect.any(String) })
  })

  it('sends append, fire, GDPR and burn events in the order they happen', async () => {
    const { send, watch } = await start({ adminToken: 't', maxBlocks: 4 })
    const stream = await watch()
    await send('POST', '/logs', { body: 'one' })
    await send('GET', '/logs', { headers: { 'x-logfire-chaos': 'fire' } })
    await send('POST', '/logs', { body: 'hello from Europe' })
    await send('POST', '/logs', { body: 'two\nthree' })
    await send('POST', '/logs', { body: 'four' }) // past the memory budget
    await send('POST', '/logs', { body: 'five' })
    await send('POST', '/logs', { body: 'six', headers: { 'x-logfire-chaos': 'wipe' } })
    await send('DELETE', '/logs', { headers: { authorization: 'Bearer t' } })
    await stream.waitForEvents(9)
    expect(brief(stream.events)).toEqual([
      '0-1 block one',
      '0-1 fire {"request":2}',
      '0-1 gdpr {"request":3,"entry":0,"term":"Europe"}',
      '0-2 block two',
      '0-3 block three',
      '1-0 burn {"burned":3,"reason":"memory budget"}',
      '1-1 block five',
      '2-0 burn {"burned":1,"reason":"random"}',
      '3-0 burn {"burned":0,"reason":"admin"}'
    ])
  })

  it('never names the line that GDPR refused', async () => {
    const { send, watch } = await start()
    const stream = await watch()
    await send('POST', '/logs', { body: 'secret plans for the UK office' })
    await stream.waitForEvents(1)
    expect(JSON.stringify(stream.events)).not.toContain('secret plans')
  })

  it('resumes after Last-Event-ID with what the viewer missed', async () => {
    const { send, watch } = await start()
    const first = await watch()
    await send('POST', '/logs', { body: 'a\nb' })
    await first.waitForEvents(2)
    first.close()
    await send('POST', '/logs', { body: 'c\nd' })

    const again = await watch({ 'last-event-id': first.events[1]?.id as string })
    await again.waitForEvents(2)
    expect(brief(again.events)).toEqual(['0-3 block c', '0-4 block d'])
  })

  it('resumes across a burn with the burn, then the new chain', async () => {
    const { send, watch } = await start({ adminToken: 't' })
    await send('POST', '/logs', { body: 'a\nb' })
    await send('DELETE', '/logs', { headers: { authorization: 'Bearer t' } })
    await send('POST', '/logs', { body: 'c' })
    const stream = await watch({ 'last-event-id': '0-2' })
    await stream.waitForEvents(2)
    expect(brief(stream.events)).toEqual(['1-0 burn {"burned":2,"reason":"admin"}', '1-1 block c'])
  })

  it('sends heartbeat comments', async () => {
    const { watch } = await start({}, { heartbeatMs: 50 })
    const stream = await watch()
    await stream.waitForComment()
    expect(stream.comments[0]).toBe('heartbeat')
  })

  it('is never on fire and takes no request number', async () => {
    const { send, watch } = await start({ fireRate: 1 })
    const stream = await watch()
    expect(stream.response?.statusCode).toBe(200)
    expect(stream.response?.headers['x-logfire-request']).toBeUndefined()
    const next = await send('GET', '/logs')
    expect(next.headers.get('x-logfire-request')).toBe('1')
  })

  it('ends every open stream when the app closes, so shutdown is not held up', async () => {
    const { app, watch } = await start()
    const viewers = [await watch(), await watch(), await watch()]
    await app.close()
    for (const viewer of viewers) {
      await viewer.waitForEnd()
      expect(viewer.ended).toBe(true)
    }
  })
})
