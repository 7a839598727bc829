import { describe, expect, it } from 'vitest'
import { lokiEntries } from '../../src/shippers/loki/push.js'

describe('lokiEntries', () => {
  it('gives one entry per line, streams in order and values in order', () => {
    const push = {
      streams: [
        { stream: { app: 'a' }, values: [['1700000000000000000', 'first'], ['1700000000000000001', 'second']] },
        { stream: { app: 'b' }, values: [['1700000000000000002', 'third', { traceID: 'abc' }]] }
      ]
    }
    expect(lokiEntries(JSON.stringify(push))).toEqual(['first', 'second', 'third'])
  })

  it.each([
    ['not JSON', 'LOGFIRE_INVALID_JSON'],
    ['{"streams":{}}', 'LOGFIRE_LOKI_INVALID_PUSH'],
    ['{"streams":[{"values":[["1"]]}]}', 'LOGFIRE_LOKI_INVALID_PUSH'],
    ['{"streams":[{"values":[[1, "line"]]}]}', 'LOGFIRE_LOKI_INVALID_PUSH']
  ])('refuses %s with 400', (body, code) => {
    expect(() => lokiEntries(body)).toThrow(expect.objectContaining({ statusCode: 400, code }))
  })
})
