import { encode, ExtData } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import { msgpackEntries } from '../../src/ingest/msgpack.js'

// Fluent Bit's EventTime: ext type 0, seconds and nanoseconds, big-endian.
function eventTime (seconds: number): ExtData {
  const data = new Uint8Array(8)
  new DataView(data.buffer).setUint32(0, seconds)
  return new ExtData(0, data)
}

const concat = (...parts: Uint8Array[]) => Buffer.concat(parts)

describe('msgpackEntries', () => {
  it('takes the record of each Fluent Bit event, old and new layouts alike', () => {
    const body = concat(
      encode([eventTime(1_700_000_000), { log: 'first', level: 'info' }]),
      encode([[eventTime(1_700_000_001), {}], { log: 'second' }]),
      encode([1_700_000_002, { log: 'third' }])
    )
    expect(msgpackEntries(body)).toEqual(['{"log":"first","level":"info"}', '{"log":"second"}', '{"log":"third"}'])
  })

  it('keeps any other value whole, as JSON', () => {
    expect(msgpackEntries(concat(encode({ msg: 'plain map' }), encode('a string'), encode([1, 2, 3]))))
      .toEqual(['{"msg":"plain map"}', '"a string"', '[1,2,3]'])
  })

  it('writes binary values as base64', () => {
    expect(msgpackEntries(encode({ raw: new Uint8Array([0xde, 0xad]) }))).toEqual(['{"raw":"3q0="}'])
  })

  it.each([
    ['truncated', encode({ log: 'cut short' }).subarray(0, 5)],
    ['a __proto__ key', Buffer.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x01])]
  ])('refuses %s input with 400', (_name, body) => {
    expect(() => msgpackEntries(body)).toThrow(expect.objectContaining({ statusCode: 400, code: 'LOGFIRE_INVALID_MSGPACK' }))
  })
})
