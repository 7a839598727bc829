import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { decodeBody } from '../../src/ingest/decode.js'

const text = Buffer.from('hello\nworld\n')

describe('decodeBody', () => {
  it('passes identity and absent encodings through', () => {
    expect(decodeBody(text, undefined, 1024)).toBe(text)
    expect(decodeBody(text, 'identity', 1024)).toBe(text)
  })

  it.each([
    ['gzip', gzipSync(text)],
    ['x-gzip', gzipSync(text)],
    ['deflate', deflateSync(text)],
    ['deflate', deflateRawSync(text)],
    ['br', brotliCompressSync(text)],
    ['GZIP', gzipSync(text)]
  ])('decodes %s', (coding, body) => {
    expect(decodeBody(body, coding, 1024).toString()).toBe(text.toString())
  })

  it('undoes stacked encodings, last applied first', () => {
    expect(decodeBody(deflateSync(gzipSync(text)), 'gzip, deflate', 1024).toString()).toBe(text.toString())
  })

  it('stops a zip bomb at the decoded size limit with 413', () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 'a'))
    expect(bomb.length).toBeLessThan(100 * 1024)
    expect(() => decodeBody(bomb, 'gzip', 1024 * 1024)).toThrow(expect.objectContaining({ code: 'LOGFIRE_BODY_TOO_LARGE', statusCode: 413 }))
  })

  it('refuses an unknown encoding with 415', () => {
    expect(() => decodeBody(text, 'zstd', 1024)).toThrow(expect.objectContaining({ code: 'LOGFIRE_UNSUPPORTED_ENCODING', statusCode: 415 }))
  })

  it('refuses a corrupt or truncated body with 400', () => {
    const truncated = gzipSync(text).subarray(0, 10)
    expect(() => decodeBody(truncated, 'gzip', 1024)).toThrow(expect.objectContaining({ code: 'LOGFIRE_CORRUPT_ENCODING', statusCode: 400 }))
    expect(() => decodeBody(text, 'gzip', 1024)).toThrow(expect.objectContaining({ code: 'LOGFIRE_CORRUPT_ENCODING' }))
  })
})
