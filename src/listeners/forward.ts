import { gunzipSync } from 'node:zlib'
import { decode, decodeMulti, encode, ExtData } from '@msgpack/msgpack'
import type { Answer, StreamCodec, Unit } from './codec.js'
import type { FramingError } from './framing.js'
import { helo, pong, type ForwardHandshake } from './forward-handshake.js'
import { msgpackExtent } from './msgpack-extent.js'
import { MsgpackToJson } from './msgpack-json.js'

/*
 * Fluentd's Forward protocol v1: MessagePack arrays back to back on one
 * connection, in one of four modes:
 *
 *   Message                  [tag, time, record, option?]
 *   Forward                  [tag, [[time, record], ...], option?]
 *   PackedForward            [tag, <bin or str: [time, record] entries back to back>, option?]
 *   CompressedPackedForward  the same, gzipped (several members), option {"compressed": "gzip"}
 *
 * A message is the unit of fate: its events are stored together or not at
 * all. With `chunk` in the option, a stored message is acknowledged with
 * {"ack": <the chunk, as received>}; without it, nothing is ever answered.
 */

/** One event as logfire stores it. */
export function forwardEntry (tag: string, time: unknown, record: unknown): string {
  return JSON.stringify({ tag, time: eventTime(time), record }, binaryAsBase64)
}

// EventTime is ext type 0: seconds and nanoseconds, each a 32-bit big-endian integer.
function eventTime (time: unknown): unknown {
  if (time instanceof ExtData && time.type === 0 && time.data instanceof Uint8Array && time.data.length === 8) {
    const view = new DataView(time.data.buffer, time.data.byteOffset, 8)
    return view.getUint32(0) + view.getUint32(4) / 1e9
  }
  return time
}

function binaryAsBase64 (_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64')
  if (value instanceof ExtData) return { ext: value.type, data: value.data instanceof Uint8Array ? Buffer.from(value.data).toString('base64') : null }
  return value
}

/** Why a Forward message cannot be taken: the connection ends. */
class NotForward extends Error {}

/**
 * The entries a Forward message carries, and its option; a NotForward error
 * when it is none of the four modes. `packedBytes` is a PackedForward
 * message's second element as it was on the wire: msgpack in a str is not
 * text, so its decoded form cannot be trusted.
 */
export function forwardMessage (value: unknown, maxBytes: number, packedBytes?: Uint8Array): { entries: string[], chunk: string | undefined } | undefined {
  // A client may send nil as a heartbeat, with no event in it.
  if (value === null) return undefined
  if (!Array.isArray(value) || value.length < 2 || value.length > 4 || typeof value[0] !== 'string') throw new NotForward('not [tag, ...]')
  const [tag, second, third, fourth] = value as [string, unknown, unknown, unknown]
  let entries: string[]
  let option: unknown
  if (typeof second === 'number' || second instanceof ExtData) {
    entries = [forwardEntry(tag, second, third)]
    option = fourth
  } else if (Array.isArray(second)) {
    entries = second.map((event) => {
      if (!Array.isArray(event) || event.length !== 2) throw new NotForward('a Forward entry is not [time, record]')
      return forwardEntry(tag, event[0], event[1])
    })
    option = third
  } else if (second instanceof Uint8Array || typeof second === 'string') {
    option = third
    const compressed = isRecord(option) && option.compressed === 'gzip'
    let packed = typeof second === 'string' ? packedBytes ?? Buffer.from(second) : second
    // Several gzip members are one stream to gunzip; the output is bounded like the input.
    if (compressed) packed = gunzipSync(packed, { maxOutputLength: maxBytes })
    entries = packedEntries(tag, packed, maxBytes)
  } else {
    throw new NotForward('not a Message, Forward or PackedForward mode')
  }
  const chunk = isRecord(option) && typeof option.chunk === 'string' ? option.chunk : undefined
  return { entries, chunk }
}

function packedEntries (tag: string, packed: Uint8Array, maxBytes: number): string[] {
  const fast = transcoded(tag, Buffer.from(packed.buffer, packed.byteOffset, packed.length))
  if (fast !== undefined) return fast
  const entries: string[] = []
  for (const event of decodeMulti(packed, LIMITS(maxBytes))) {
    if (!Array.isArray(event) || event.length !== 2) throw new NotForward('a packed entry is not [time, record]')
    entries.push(forwardEntry(tag, event[0], event[1]))
  }
  return entries
}

/**
 * The entries of a packed chunk straight from its bytes, when every event
 * is [number, record] with nothing JSON has no form for: the common case,
 * at a third of the cost. Undefined sends the chunk the slow way.
 */
function transcoded (tag: string, packed: Buffer): string[] | undefined {
  const entries: string[] = []
  const prefix = `{"tag":${JSON.stringify(tag)},"time":`
  const reader = new MsgpackToJson(packed)
  while (reader.at < packed.length) {
    const at = reader.at
    const timeType = packed[at + 1] as number
    if (packed[at] !== 0x92 || !(timeType <= 0x7f || timeType >= 0xe0 || (timeType >= 0xca && timeType <= 0xd3))) return undefined
    reader.at = at + 1
    const time = reader.json()
    if (time === undefined) return undefined
    const record = reader.json()
    if (record === undefined) return undefined
    entries.push(prefix + time + ',"record":' + record + '}')
  }
  return entries
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)

const LIMITS = (maxBytes: number) => ({ maxStrLength: maxBytes, maxBinLength: maxBytes, maxArrayLength: maxBytes, maxMapLength: maxBytes, maxExtLength: maxBytes })

/** A chunk id that is not the one sent: what ack-wrong answers. */
const otherChunk = (chunk: string): string => chunk.length > 0 && chunk[0] !== 'x' ? 'x' + chunk.slice(1) : 'y' + chunk.slice(1)

/**
 * Forward for one connection: each message one unit, acknowledged when it
 * asks to be. A message logfire refuses (lp0, GDPR, the burn, a nak) is
 * never acknowledged, and the connection is closed: Forward has no other
 * way to say no. With a shared key, nothing is taken before the handshake.
 */
export function forwardCodec (maxMessageBytes: number, handshake?: ForwardHandshake): StreamCodec {
  let buffer: Buffer = Buffer.alloc(0)
  let offset = 0
  let authenticated = handshake === undefined
  const unit = (value: unknown, raw: Uint8Array | undefined): Unit | FramingError => {
    let message: ReturnType<typeof forwardMessage>
    try {
      message = forwardMessage(value, maxMessageBytes, raw)
    } catch (error) {
      if (error instanceof NotForward || error instanceof RangeError || (error as NodeJS.ErrnoException).code?.startsWith('Z_') === true || (error as Error).name === 'DecodeError') return { problem: 'bad-frame' }
      throw error
    }
    if (message === undefined) return { kind: 'control', reply: undefined }
    const { entries, chunk } = message
    return {
      kind: 'entries',
      entries,
      answer: (answer: Answer) => {
        if (answer !== 'stored' && answer !== 'wrong-ack') return { close: true }
        if (chunk === undefined) return {}
        return { bytes: Buffer.from(encode({ ack: answer === 'stored' ? chunk : otherChunk(chunk) })) }
      }
    }
  }
  return {
    push: (chunk) => {
      buffer = offset >= buffer.length ? chunk : Buffer.concat([buffer.subarray(offset), chunk])
      offset = 0
    },
    next: () => {
      if (offset >= buffer.length) return undefined
      const end = msgpackExtent(buffer, offset, maxMessageBytes)
      if (typeof end !== 'number') return end
      const slice = buffer.subarray(offset, end)
      offset = end
      let value: unknown
      try {
        value = decode(slice, LIMITS(maxMessageBytes))
      } catch {
        return { problem: 'bad-frame' }
      }
      if (!authenticated && handshake !== undefined) {
        const answer = pong(handshake, value)
        authenticated = answer.ok
        return { kind: 'control', reply: answer.reply, end: answer.ok ? undefined : 'unauthenticated', fireToken: answer.fireToken }
      }
      return unit(value, Array.isArray(value) && typeof value[1] === 'string' ? strPayload(slice) : undefined)
    },
    get buffered () { return buffer.length - offset },
    greeting: handshake === undefined ? undefined : helo(handshake)
  }
}

/** The bytes of the str that is a message's second element, found by walking the array's header and its tag. */
function strPayload (message: Uint8Array): Uint8Array | undefined {
  const first = message[0] as number
  const afterHeader = first >= 0x90 && first <= 0x9f ? 1 : first === 0xdc ? 3 : first === 0xdd ? 5 : -1
  if (afterHeader < 0) return undefined
  const second = msgpackExtent(message, afterHeader, message.length)
  if (typeof second !== 'number') return undefined
  const type = message[second] as number
  const [sizeBytes, length] = type >= 0xa0 && type <= 0xbf
    ? [0, type & 0x1f]
    : type === 0xd9 ? [1, message[second + 1] as number] : type === 0xda ? [2, ((message[second + 1] as number) << 8) | (message[second + 2] as number)] : type === 0xdb ? [4, new DataView(message.buffer, message.byteOffset + second + 1, 4).getUint32(0)] : [-1, 0]
  if (sizeBytes < 0) return undefined
  const start = second + 1 + sizeBytes
  return message.subarray(start, start + length)
}

/** The UDP heartbeat's answer, to every datagram on the Forward port: one byte 0x00. */
export const HEARTBEAT = Buffer.from([0])
