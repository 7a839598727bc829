import { decodeMulti } from '@msgpack/msgpack'
import { InvalidMsgpack } from '../errors.js'
import { compactJson } from './entries.js'

/**
 * Fluent Bit's msgpack output is its raw chunk: events back to back, each
 * `[timestamp, record]` or, since Fluent Bit 2.1, `[[timestamp, metadata],
 * record]`. The record is what the user logged, so it becomes the entry; any
 * other value is kept whole.
 */
export function msgpackEntries (bytes: Uint8Array): string[] {
  let values: unknown[]
  try {
    values = [...decodeMulti(bytes)]
  } catch (error) {
    throw new InvalidMsgpack((error as Error).message)
  }
  return values.map((value) => compactJson(recordOf(value), binaryAsBase64))
}

function recordOf (value: unknown): unknown {
  const isEvent = Array.isArray(value) && value.length === 2 && isPlainObject(value[1]) &&
    (typeof value[0] === 'number' || typeof value[0] === 'object')
  return isEvent ? value[1] : value
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
}

// msgpack's bin type has no JSON form; base64 keeps it readable and lossless.
function binaryAsBase64 (_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value
}
