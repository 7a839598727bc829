import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hecEventEntries } from '../../src/shippers/hec/events.js'

describe('hecEventEntries', () => {
  it('reads envelopes back to back, with or without whitespace between them', () => {
    const body = '{"event":"one","time":1}{"event":"two"}\n{"event":"three"}  \r\n\t{"event":"four"}'
    expect(hecEventEntries(body)).toEqual(['one', 'two', 'three', 'four'])
  })

  it('stores an object event as its JSON text, and ignores the metadata', () => {
    const body = '{"time":1700000000,"host":"h","source":"s","sourcetype":"_json","index":"main","event":{"message":"hi","severity":"info"}}'
    expect(hecEventEntries(body)).toEqual(['{"message":"hi","severity":"info"}'])
  })

  it('is not fooled by braces and quotes inside strings', () => {
    const body = String.raw`{"event":"a } \" { b"}{"event":{"nested":["}",{"x":"{"}]}}`
    expect(hecEventEntries(body)).toEqual(['a } " { b', '{"nested":["}",{"x":"{"}]}'])
  })

  it.each([
    ['{"event":"ok"}{"time":1}', 'LOGFIRE_HEC_EVENT_REQUIRED', 1],
    ['{"event":null}', 'LOGFIRE_HEC_EVENT_REQUIRED', 0],
    ['{"event":"ok"}{"event":"ok"}{"event":""}', 'LOGFIRE_HEC_EVENT_BLANK', 2],
    ['{"event":"ok"}{"event":', 'LOGFIRE_INVALID_JSON', 1],
    ['{"event":"ok"} trailing words', 'LOGFIRE_INVALID_JSON', 1],
    ['"a string"', 'LOGFIRE_HEC_EVENT_REQUIRED', 0]
  ])('refuses %j with %s, naming event %d', (body, code, index) => {
    expect(() => hecEventEntries(body)).toThrow(expect.objectContaining({ statusCode: 400, code, message: expect.stringContaining(String(index)) }))
  })

  it('reads back any sequence of events it is sent', () => {
    const event = fc.oneof(fc.string({ minLength: 1 }), fc.dictionary(fc.string(), fc.jsonValue()))
    fc.assert(fc.property(fc.array(event, { minLength: 1 }), fc.constantFrom('', '\n', ' '), (events, separator) => {
      const body = events.map((e) => JSON.stringify({ event: e })).join(separator)
      expect(hecEventEntries(body)).toEqual(events.map((e) => typeof e === 'string' ? e : JSON.stringify(e)))
    }))
  })
})
