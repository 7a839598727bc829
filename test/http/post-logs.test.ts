import { deflateSync, gzipSync } from 'node:zlib'
import request from 'supertest'
import { describe, expect, it } from 'vitest'
import { GENESIS } from '../../src/chain/block.js'
import { ChainStore } from '../../src/chain/store.js'
import { appsClosedAfterEach, chainEntries, post } from '../helpers.js'

const start = appsClosedAfterEach()

describe('POST /logs', () => {
  it('appends a line and answers exactly 200 with the appended blocks', async () => {
    const a = await start()
    const response = await post(a, 'hello', { 'content-type': 'application/x-www-form-urlencoded' })
    expect(response.statusCode).toBe(200)
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.json()).toEqual({
      appended: 1,
      length: 2,
      blocks: [{
        index: 1,
        previousHash: GENESIS.hash,
        timestamp: 1_700_000_000_000,
        data: 'hello',
        hash: expect.stringMatching(/^[0-9a-f]{64}$/)
      }]
    })
    expect(await chainEntries(a)).toEqual(['hello'])
  })

  it.each([
    ['text lines', 'text/plain', 'one\ntwo\r\nthree', ['one', 'two', 'three']],
    ['curl form text, never URL-decoded', 'application/x-www-form-urlencoded', 'user=root&action=login+ok', ['user=root&action=login+ok']],
    ['no Content-Type', undefined, 'a line\nanother', ['a line', 'another']],
    ['a JSON object', 'application/json', '{"level":30, "msg":"hi"}', ['{"level":30,"msg":"hi"}']],
    ['a JSON array', 'application/json', '["a", {"b":1}, 2]', ['a', '{"b":1}', '2']],
    ['a JSON string', 'application/json', '"quoted"', ['quoted']],
    ['NDJSON with a trailing newline', 'application/x-ndjson', '{"a":1}\n{"b": 2}\n', ['{"a":1}', '{"b": 2}']],
    ['NDJSON without a trailing newline', 'application/x-ndjson', '{"a":1}\n{"b": 2}', ['{"a":1}', '{"b": 2}']],
    ['NDJSON with no Content-Type (pino-http-send)', undefined, '{"a":1}\n{"b":2}\n', ['{"a":1}', '{"b":2}']],
    ['text that only looks like JSON', 'text/plain', '{oops\n[nope', ['{oops', '[nope']],
    ['unicode', 'text/plain; charset=utf-8', 'héllo 🔥\n日本語', ['héllo 🔥', '日本語']]
  ])('reads %s', async (_name, contentType, body, expected) => {
    const a = await start()
    const response = await post(a, body, contentType === undefined ? {} : { 'content-type': contentType })
    expect(response.statusCode).toBe(200)
    expect(response.json()).toMatchObject({ appended: expected.length, length: expected.length + 1 })
    expect(await chainEntries(a)).toEqual(expected)
  })

  it('decodes gzip and deflate bodies sent over a real socket', async () => {
    const a = await start()
    await request(a.server).post('/logs').set('content-encoding', 'gzip').set('content-type', 'text/plain')
      .send(gzipSync('zipped one\nzipped two\n')).expect(200)
    await request(a.server).post('/logs').set('content-encoding', 'deflate').set('content-type', 'text/plain')
      .send(deflateSync('["deflated"]')).expect(200)
    expect(await chainEntries(a)).toEqual(['zipped one', 'zipped two', 'deflated'])
  })

  it('appends batches in order, across requests', async () => {
    const a = await start()
    await post(a, 'a\nb')
    const response = await post(a, 'c')
    expect(response.json()).toMatchObject({ appended: 1, length: 4, blocks: [{ index: 3, data: 'c' }] })
    expect(await chainEntries(a)).toEqual(['a', 'b', 'c'])
  })

  // A small answer is sent as a string, a big one from the store's bytes.
  it.each([['a few lines', 3], ['a batch whose answer is over 16 KiB', 400]])('answers %s with the blocks as GET /logs has them, over a real socket', async (_name, lines) => {
    const a = await start()
    const body = Array.from({ length: lines }, (_, i) => `line ${i}: héllo 🔥 "quoted"`).join('\n')
    const answer = await request(a.server).post('/logs').set('content-type', 'text/plain').send(body).expect(200)
    const chain = await request(a.server).get('/logs').expect(200)
    expect(answer.body).toEqual({ appended: lines, length: lines + 1, blocks: (chain.body as unknown[]).slice(1) })
    expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.text))
  })
})

describe('POST /logs with bad input: a clear 4xx, nothing stored, the server unaffected', () => {
  it.each([
    ['an empty body', '', {}, 400, 'LOGFIRE_EMPTY_BODY'],
    ['a blank body', '\n \r\n', { 'content-type': 'text/plain' }, 400, 'LOGFIRE_EMPTY_BODY'],
    ['an empty JSON array', '[]', { 'content-type': 'application/json' }, 400, 'LOGFIRE_EMPTY_BODY'],
    ['invalid JSON', '{"a":', { 'content-type': 'application/json' }, 400, 'LOGFIRE_INVALID_JSON'],
    ['invalid NDJSON', '{"a":1}\n{"b":', { 'content-type': 'application/x-ndjson' }, 400, 'LOGFIRE_INVALID_JSON'],
    ['invalid UTF-8', Buffer.from([0x6f, 0x6b, 0xc3, 0x28]), { 'content-type': 'text/plain' }, 400, 'LOGFIRE_INVALID_UTF8'],
    ['a corrupt gzip body', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' }, 400, 'LOGFIRE_CORRUPT_ENCODING'],
    ['a binary Content-Type', 'PNG', { 'content-type': 'image/png' }, 415, 'LOGFIRE_UNSUPPORTED_MEDIA_TYPE'],
    ['application/octet-stream', 'bytes', { 'content-type': 'application/octet-stream' }, 415, 'LOGFIRE_UNSUPPORTED_MEDIA_TYPE'],
    ['an unknown Content-Encoding', 'x', { 'content-encoding': 'compress' }, 415, 'LOGFIRE_UNSUPPORTED_ENCODING']
  ])('refuses %s', async (_name, body, headers, status, code) => {
    const a = await start()
    const response = await post(a, body, headers as Record<string, string>)
    expect(response.statusCode).toBe(status)
    expect(response.json()).toEqual({ statusCode: status, code, error: expect.any(String), message: expect.any(String) })
    expect(await chainEntries(a)).toEqual([])
    expect((await post(a, 'still alive')).statusCode).toBe(200)
  })

  it('refuses a body over LOGFIRE_MAX_BODY_BYTES with 413', async () => {
    const a = await start({ maxBodyBytes: 1000 })
    const response = await post(a, 'x'.repeat(1001), { 'content-type': 'text/plain' })
    expect(response.statusCode).toBe(413)
    expect(response.json()).toMatchObject({ statusCode: 413, code: 'LOGFIRE_BODY_TOO_LARGE', error: 'Payload Too Large' })
    expect(await chainEntries(a)).toEqual([])
  })

  it('counts the decoded size: a zip bomb gets 413, not an out-of-memory crash', async () => {
    const a = await start()
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 'a'))
    expect(bomb.length).toBeLessThan(1024 * 1024)
    const response = await post(a, bomb, { 'content-encoding': 'gzip', 'content-type': 'text/plain' })
    expect(response.statusCode).toBe(413)
    expect(response.json()).toMatchObject({ code: 'LOGFIRE_BODY_TOO_LARGE' })
  })

  it('refuses an entry over LOGFIRE_MAX_ENTRY_BYTES with 413, naming it', async () => {
    const a = await start({ maxEntryBytes: 10 })
    const response = await post(a, 'short\n' + 'y'.repeat(11), { 'content-type': 'text/plain' })
    expect(response.statusCode).toBe(413)
    expect(response.json()).toEqual({
      statusCode: 413,
      code: 'LOGFIRE_ENTRY_TOO_LARGE',
      error: 'Payload Too Large',
      message: 'Entry 1 is over 10 bytes',
      entry: 1
    })
    expect(await chainEntries(a)).toEqual([])
  })

  it('answers an unexpected failure with a generic 500, no stack, and keeps serving', async () => {
    class BrokenStore extends ChainStore {
      override commit (): never { throw new Error('disk full at /secret/path') }
    }
    const a = await start({}, { store: new BrokenStore() })
    const response = await post(a, 'hello')
    expect(response.statusCode).toBe(500)
    expect(response.json()).toEqual({
      statusCode: 500,
      code: 'LOGFIRE_INTERNAL',
      error: 'Internal Server Error',
      message: 'Something went wrong on our side, and not on purpose'
    })
    expect(response.body).not.toContain('secret')
    expect((await a.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
  })
})

describe('GDPR', () => {
  it('refuses a whole batch with 451 when one line mentions the EU, and stores nothing', async () => {
    const a = await start()
    const response = await post(a, 'fine\nalso fine\nshipping to eu-west-1\nfine again', { 'content-type': 'text/plain' })
    expect(response.statusCode).toBe(451)
    expect(response.headers.link).toBe('<https://logfire.io/legal/gdpr>; rel="blocked-by"')
    expect(response.json()).toEqual({
      statusCode: 451,
      code: 'LOGFIRE_GDPR',
      error: 'Unavailable For Legal Reasons',
      message: 'Entry 2 mentions "eu"; logs about the EU, the UK or Europe are not processed here',
      entry: 2,
      term: 'eu'
    })
    expect(await chainEntries(a)).toEqual([])
  })

  it('checks JSON entries too', async () => {
    const a = await start()
    const response = await post(a, '[{"user":"tom"},{"tz":"Europe/London"}]', { 'content-type': 'application/json' })
    expect(response.statusCode).toBe(451)
    expect(response.json()).toMatchObject({ entry: 1, term: 'Europe' })
  })

  it('lets everything through with LOGFIRE_GDPR=false', async () => {
    const a = await start({ gdpr: false })
    expect((await post(a, 'the UK and the EU')).statusCode).toBe(200)
    expect(await chainEntries(a)).toEqual(['the UK and the EU'])
  })
})
