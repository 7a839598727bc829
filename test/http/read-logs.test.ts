import { describe, expect, it } from 'vitest'
import { GENESIS } from '../../src/chain/block.js'
import { ChainStore } from '../../src/chain/store.js'
import { appsClosedAfterEach, post } from '../helpers.js'

const start = appsClosedAfterEach()

describe('GET /logs', () => {
  it('returns the whole chain as a bare JSON array, genesis first', async () => {
    const a = await start()
    await post(a, 'one\ntwo')
    const response = await a.inject({ method: 'GET', url: '/logs' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
    const blocks = response.json()
    expect(blocks).toHaveLength(3)
    expect(blocks[0]).toEqual(GENESIS)
    expect(blocks.map((b: { data: string }) => b.data)).toEqual([GENESIS.data, 'one', 'two'])
    expect(response.body.startsWith('[{"index":0,"previousHash":"0","timestamp":1465154705,')).toBe(true)
  })

  it('answers HEAD with the same headers and no body', async () => {
    const a = await start()
    await post(a, 'one')
    const get = await a.inject({ method: 'GET', url: '/logs' })
    const head = await a.inject({ method: 'HEAD', url: '/logs' })
    expect(head.statusCode).toBe(200)
    expect(head.body).toBe('')
    expect(head.headers['content-type']).toBe(get.headers['content-type'])
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)))
  })
})

describe('GET /logs?from=', () => {
  it('returns only the blocks from that index on', async () => {
    const a = await start()
    await post(a, 'a\nb\nc')
    const response = await a.inject({ method: 'GET', url: '/logs?from=2' })
    expect(response.statusCode).toBe(200)
    expect(response.json().map((b: { index: number, data: string }) => [b.index, b.data])).toEqual([[2, 'b'], [3, 'c']])
    expect(response.headers['content-length']).toBe(String(Buffer.byteLength(response.body)))
  })

  it('returns an empty array past the head', async () => {
    const a = await start()
    const response = await a.inject({ method: 'GET', url: '/logs?from=5' })
    expect(response.statusCode).toBe(200)
    expect(response.body).toBe('[]')
  })

  it.each(['-1', 'abc', '1.5'])('refuses from=%s with 400', async (from) => {
    const a = await start()
    const response = await a.inject({ method: 'GET', url: `/logs?from=${from}` })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ code: 'LOGFIRE_INVALID_REQUEST' })
  })
})

describe('conditional GET /logs', () => {
  it('has an ETag and answers If-None-Match with an empty 304', async () => {
    const a = await start()
    await post(a, 'a')
    const first = await a.inject({ method: 'GET', url: '/logs' })
    const etag = first.headers.etag as string
    expect(etag).toMatch(/^"0-2-[0-9a-f]{16}"$/)
    const again = await a.inject({ method: 'GET', url: '/logs', headers: { 'if-none-match': etag } })
    expect(again.statusCode).toBe(304)
    expect(again.body).toBe('')
    expect(again.headers['content-length'] ?? '0').toBe('0')
    expect(again.headers.etag).toBe(etag)
    expect((await a.inject({ method: 'GET', url: '/logs', headers: { 'if-none-match': `"other", W/${etag}` } })).statusCode).toBe(304)
  })

  it('changes the ETag on every append, and after a burn even for the same content', async () => {
    const a = await start({ adminToken: 't' })
    const tags = new Set<string>()
    const tag = async (url = '/logs') => (await a.inject({ method: 'GET', url })).headers.etag as string
    tags.add(await tag())
    await post(a, 'a')
    tags.add(await tag())
    await a.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer t' } })
    tags.add(await tag())
    tags.add(await tag('/logs?from=1'))
    expect(tags.size).toBe(4)
    const stale = await a.inject({ method: 'GET', url: '/logs', headers: { 'if-none-match': [...tags][1] as string } })
    expect(stale.statusCode).toBe(200)
  })

  it('never serialises the chain for a 304', async () => {
    class CountingStore extends ChainStore {
      slices = 0
      override slice (from?: number) { this.slices++; return super.slice(from) }
    }
    const store = new CountingStore()
    const a = await start({}, { store })
    const etag = (await a.inject({ method: 'GET', url: '/logs' })).headers.etag as string
    await a.inject({ method: 'GET', url: '/logs', headers: { 'if-none-match': etag } })
    expect(store.slices).toBe(1)
  })
})

describe('GET /logs/:index', () => {
  it('returns one block', async () => {
    const a = await start()
    await post(a, 'one\ntwo')
    const response = await a.inject({ method: 'GET', url: '/logs/2' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ index: 2, data: 'two' })
    expect((await a.inject({ method: 'GET', url: '/logs/0' })).json()).toEqual(GENESIS)
  })

  it('answers 404 when there is no such block', async () => {
    const a = await start()
    const response = await a.inject({ method: 'GET', url: '/logs/7' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({
      statusCode: 404,
      code: 'LOGFIRE_BLOCK_NOT_FOUND',
      error: 'Not Found',
      message: 'There is no block 7; the chain has 1 blocks'
    })
  })

  it.each(['abc', '-1', '1.5', '1e3'])('answers 400 for the index %j', async (index) => {
    const a = await start()
    const response = await a.inject({ method: 'GET', url: `/logs/${index}` })
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ statusCode: 400, code: 'LOGFIRE_INVALID_REQUEST', error: 'Bad Request' })
  })
})

describe('GET /logs/verify', () => {
  it('reports a valid chain with its length and head', async () => {
    const a = await start()
    const appended = (await post(a, 'a\nb')).json()
    const response = await a.inject({ method: 'GET', url: '/logs/verify' })
    expect(response.json()).toEqual({ valid: true, length: 3, head: appended.blocks[1].hash })
  })

  it('reports the first broken block of a tampered chain', async () => {
    class TamperedStore extends ChainStore {
      override toArray () {
        const blocks = super.toArray()
        if (blocks[2] !== undefined) blocks[2].data = 'tampered'
        return blocks
      }
    }
    const a = await start({}, { store: new TamperedStore() })
    await post(a, 'a\nb\nc')
    const response = await a.inject({ method: 'GET', url: '/logs/verify' })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toEqual({ valid: false, index: 2, reason: 'hash does not match the block content' })
  })
})

describe('the rest of the service', () => {
  it('has GET /healthz, never on fire and never rate limited', async () => {
    const a = await start({ fireRate: 1, rateLimit: 1 })
    for (let i = 0; i < 5; i++) {
      const response = await a.inject({ method: 'GET', url: '/healthz' })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toEqual({ status: 'ok' })
      expect(response.headers['x-logfire-request']).toBeUndefined()
    }
  })

  it('answers unknown routes with 404 in the JSON error shape', async () => {
    const a = await start()
    const response = await a.inject({ method: 'GET', url: '/nope?x=1' })
    expect(response.statusCode).toBe(404)
    expect(response.json()).toEqual({ statusCode: 404, code: 'LOGFIRE_NOT_FOUND', error: 'Not Found', message: 'Route GET /nope not found' })
    expect((await a.inject({ method: 'PUT', url: '/logs' })).json()).toMatchObject({ statusCode: 404, code: 'LOGFIRE_NOT_FOUND' })
  })

  it('sends an API\'s headers on API answers: nosniff, and none of the page\'s', async () => {
    const a = await start()
    for (const url of ['/logs', '/healthz', '/nope']) {
      const response = await a.inject({ method: 'GET', url })
      expect(response.headers['x-content-type-options']).toBe('nosniff')
      expect(response.headers['content-security-policy']).toBeUndefined()
    }
  })
})
