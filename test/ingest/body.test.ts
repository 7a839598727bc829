import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { bodyToEntries, utf8Text } from '../../src/ingest/body.js'

const limits = { maxBodyBytes: 1024, maxEntryBytes: 16 }
const text = { contentType: 'text/plain', contentEncoding: undefined }

describe('bodyToEntries', () => {
  it('turns a body into entries', () => {
    expect(bodyToEntries(Buffer.from('a\nb'), text, limits)).toEqual(['a', 'b'])
  })

  it('refuses binary media with 415 before reading it', () => {
    expect(() => bodyToEntries(Buffer.from('a'), { contentType: 'image/png', contentEncoding: undefined }, limits))
      .toThrow(expect.objectContaining({ statusCode: 415, code: 'LOGFIRE_UNSUPPORTED_MEDIA_TYPE' }))
  })

  it('refuses invalid UTF-8 with 400', () => {
    expect(() => bodyToEntries(Buffer.from([0x68, 0xff, 0xfe, 0x0a]), text, limits))
      .toThrow(expect.objectContaining({ statusCode: 400, code: 'LOGFIRE_INVALID_UTF8' }))
  })

  it('reads text as a fatal TextDecoder does: the same text, or a refusal where it throws', () => {
    const decoder = new TextDecoder('utf-8', { fatal: true })
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      fc.string({ unit: 'grapheme', maxLength: 16 }).map((s) => new Uint8Array(Buffer.from(s))),
      fc.tuple(fc.constantFrom([0xef, 0xbb, 0xbf], [0xef, 0xbb], [0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), fc.string({ maxLength: 8 }))
        .map(([prefix, s]) => new Uint8Array([...prefix, ...Buffer.from(s)]))
    )
    fc.assert(fc.property(bytes, (array) => {
      const body = { kind: 'text' as const, bytes: Buffer.from(array), contentType: 'text/plain' }
      let expected: string | undefined
      try { expected = decoder.decode(array) } catch { expected = undefined }
      if (expected === undefined) expect(() => utf8Text(body)).toThrow(expect.objectContaining({ code: 'LOGFIRE_INVALID_UTF8' }))
      else expect(utf8Text(body)).toBe(expected)
    }), { numRuns: 2000 })
  })

  it('refuses a body with no entries with 400', () => {
    expect(() => bodyToEntries(Buffer.from('\n\n'), text, limits)).toThrow(expect.objectContaining({ code: 'LOGFIRE_EMPTY_BODY' }))
  })

  it('names the entry that is over the entry limit, counting UTF-8 bytes', () => {
    // 6 fire emoji are 24 bytes in UTF-8 but 12 UTF-16 units.
    expect(() => bodyToEntries(Buffer.from('short\n' + '🔥'.repeat(6)), text, limits))
      .toThrow(expect.objectContaining({ statusCode: 413, code: 'LOGFIRE_ENTRY_TOO_LARGE', message: expect.stringContaining('Entry 1') }))
    expect(bodyToEntries(Buffer.from('🔥'.repeat(4)), text, limits)).toEqual(['🔥🔥🔥🔥'])
    // Right at the limit, in one-, two- and three-byte characters: 16 bytes pass, 17 do not.
    for (const [fits, over] of [['a'.repeat(16), 'a'.repeat(17)], ['é'.repeat(8), 'é'.repeat(8) + 'a'], ['€'.repeat(5) + 'a', '€'.repeat(5) + 'é']]) {
      expect(bodyToEntries(Buffer.from(fits as string), text, limits)).toEqual([fits])
      expect(() => bodyToEntries(Buffer.from(over as string), text, limits)).toThrow(expect.objectContaining({ code: 'LOGFIRE_ENTRY_TOO_LARGE' }))
    }
  })
})
