import { describe, expect, it } from 'vitest'
import { classifyMediaType } from '../../src/ingest/media-type.js'

describe('classifyMediaType', () => {
  it.each([
    [undefined, 'text'],
    ['text/plain', 'text'],
    ['text/plain; charset=utf-8', 'text'],
    ['application/x-www-form-urlencoded', 'text'],
    ['application/xml', 'text'],
    ['application/logplex-1', 'text'],
    ['application/json', 'json'],
    ['Application/JSON; charset=UTF-8', 'json'],
    ['application/x-ndjson', 'json'],
    ['application/vnd.api+json', 'json'],
    ['image/png', 'binary'],
    ['application/octet-stream', 'binary'],
    ['application/msgpack', 'msgpack'],
    ['application/x-msgpack', 'msgpack'],
    ['multipart/form-data; boundary=x', 'binary'],
    ['video/mp4', 'binary']
  ])('reads %s as %s', (contentType, kind) => {
    expect(classifyMediaType(contentType)).toBe(kind)
  })
})
