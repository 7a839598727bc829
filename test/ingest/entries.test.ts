import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nonBlankLines, parseEntries } from '../../src/ingest/entries.js'

describe('parseEntries', () => {
  it('reads text as one entry per non-blank line, LF or CRLF', () => {
    expect(parseEntries('one\r\ntwo\n\n  \nthree\n', false)).toEqual(['one', 'two', 'three'])
  })

  it('keeps lines verbatim, inner whitespace included', () => {
    expect(parseEntries('  indented  \n', false)).toEqual(['  indented  '])
  })

  it('never URL-decodes form bodies', () => {
    expect(parseEntries('user=root&action=login+ok%21', false)).toEqual(['user=root&action=login+ok%21'])
  })

  it('gives one entry per element of a JSON array, non-strings as compact JSON', () => {
    expect(parseEntries('[ "a", {"b": 1}, 3, null, [true] ]', true)).toEqual(['a', '{"b":1}', '3', 'null', '[true]'])
  })

  it("gives one entry per element of pino-http-send's {\"logs\": [...]} envelope", () => {
    expect(parseEntries('{"logs":[{"level":30,"msg":"a"},{"level":40,"msg":"b"}]}', true))
      .toEqual(['{"level":30,"msg":"a"}', '{"level":40,"msg":"b"}'])
  })

  it('keeps an object with a logs field and anything else as one entry', () => {
    expect(parseEntries('{"logs":[1],"msg":"x"}', true)).toEqual(['{"logs":[1],"msg":"x"}'])
    expect(parseEntries('{"logs":"not a list"}', true)).toEqual(['{"logs":"not a list"}'])
  })

  it('refuses values nested deeper than JSON.stringify can write back, with 400', () => {
    const deep = '['.repeat(50_000) + ']'.repeat(50_000)
    expect(() => parseEntries(deep, true)).toThrow(expect.objectContaining({ statusCode: 400, code: 'LOGFIRE_NESTED_TOO_DEEP' }))
  })

  it('gives one entry for one JSON object, as compact JSON', () => {
    expect(parseEntries('{ "level": "info",\n  "msg": "hi" }', true)).toEqual(['{"level":"info","msg":"hi"}'])
  })

  it('gives one entry for a JSON string', () => {
    expect(parseEntries('"just a line"', true)).toEqual(['just a line'])
  })

  it("gives one entry per object of Fluent Bit's json_stream, objects back to back", () => {
    expect(parseEntries('{"date":1.5,"log":"a"}{"date":2.5,"log":"b {}"}', true)).toEqual(['{"date":1.5,"log":"a"}', '{"date":2.5,"log":"b {}"}'])
    expect(parseEntries('{"a":1} {"b":2}', false)).toEqual(['{"a":1}', '{"b":2}'])
  })

  it('refuses objects back to back with junk between them when the body is JSON', () => {
    expect(() => parseEntries('{"a":1} junk {"b":2}', true)).toThrow(expect.objectContaining({ code: 'LOGFIRE_INVALID_JSON' }))
  })

  it('keeps NDJSON lines verbatim, with or without a trailing newline', () => {
    expect(parseEntries('{"a": 1}\n{"b":2}', true)).toEqual(['{"a": 1}', '{"b":2}'])
    expect(parseEntries('{"a": 1}\r\n{"b":2}\n', true)).toEqual(['{"a": 1}', '{"b":2}'])
  })

  it('recognises JSON by shape even without a JSON Content-Type', () => {
    expect(parseEntries('["a","b"]', false)).toEqual(['a', 'b'])
    expect(parseEntries('{"a":1}\n{"b":2}\n', false)).toEqual(['{"a":1}', '{"b":2}'])
  })

  it('treats text that only looks like JSON as text', () => {
    expect(parseEntries('{not json}\n[also not', false)).toEqual(['{not json}', '[also not'])
  })

  it('refuses invalid JSON under a JSON Content-Type, naming the line', () => {
    expect(() => parseEntries('{bad', true)).toThrow(expect.objectContaining({ code: 'LOGFIRE_INVALID_JSON', statusCode: 400 }))
    expect(() => parseEntries('{"a":1}\nnope\n', true)).toThrow(/line 2/)
  })

  it('finds nothing in an empty or blank body', () => {
    expect(parseEntries('', false)).toEqual([])
    expect(parseEntries(' \n\r\n ', true)).toEqual([])
    expect(parseEntries('[]', true)).toEqual([])
  })

  it('does not let __proto__ keys touch any prototype', () => {
    expect(parseEntries('{"__proto__":{"polluted":true}}', true)).toEqual(['{"__proto__":{"polluted":true}}'])
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('nonBlankLines', () => {
  it('splits on \\n and \\r\\n and skips blank lines, exactly as split(/\\r?\\n/) and trim would', () => {
    expect(nonBlankLines('a\r\n\r\n  \nb\r\nc\r')).toEqual(['a', 'b', 'c\r'])
    const text = fc.string({ unit: fc.constantFrom('\r', '\n', ' ', '\t', '\u00a0', '\u2028', '\ufeff', 'a', 'é') })
    fc.assert(fc.property(text, (body) => {
      expect(nonBlankLines(body)).toEqual(body.split(/\r?\n/).filter((line) => line.trim() !== ''))
    }), { numRuns: 2000 })
  })
})
