import fc from 'fast-check'
import { SyslogFramer, type FramingMode } from '../../src/listeners/framing.js'
import { RelpFramer } from '../../src/listeners/relp.js'
import { forwardCodec } from '../../src/listeners/forward.js'
import { GelfChunks } from '../../src/listeners/gelf.js'
import { encode } from '@msgpack/msgpack'

/*
 * Hostile byte streams for the syslog framer: split frames, garbage, digits
 * forever, NULs, counts over the limit, a half frame at the end. The framer
 * is pure, so a case costs microseconds: 100,000 of them take seconds.
 */

const MAX = 512

const message = fc.string({ unit: fc.constantFrom('a', ' ', '<', '>', '1', '\n', '\0', '\r', 'é', '🔥'), maxLength: 700 })
const pieces = fc.oneof(
  message.map((text) => `${Buffer.byteLength(text)} ${text}`),
  message.map((text) => `<13>${text.replace(/[\n\0]/g, '')}\n`),
  message,
  fc.stringMatching(/^\d{1,40}$/),
  fc.constantFrom('0 ', '00', ' ', '\0\0', '\r\n', '99999999999999999999 ', '2147483648 <13>', '-1 ', '1 \n')
)

/** A stream cut into chunks at arbitrary points, in one of the two framing modes. */
export const hostileStream = fc.record({
  mode: fc.constantFrom<FramingMode>('detect', 'octet-counting'),
  text: fc.array(pieces, { maxLength: 20 }).map((parts) => parts.join('')),
  cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 10 })
})

export type HostileStream = typeof hostileStream extends fc.Arbitrary<infer T> ? T : never

/**
 * Feeds the stream to a framer and checks every invariant: no throw, no
 * frame over the limit, the buffer never past the limit and one chunk, and
 * a framing error is final. Throws on the first broken one.
 */
export function checkFraming ({ mode, text, cuts }: HostileStream): 'frames' | 'error' {
  const bytes = Buffer.from(text)
  const framer = new SyslogFramer(mode, MAX)
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  let from = 0
  for (const to of [...points, bytes.length]) {
    const chunk = bytes.subarray(from, to)
    from = to
    framer.push(chunk)
    for (let frame = framer.next(); frame !== undefined; frame = framer.next()) {
      if (!Buffer.isBuffer(frame)) return 'error'
      if (frame.length > MAX) throw new Error(`a frame of ${frame.length} bytes passed the limit of ${MAX}`)
    }
    // Whatever is held waits for one frame: never more than the limit, its count and the chunk just read.
    if (framer.buffered > MAX + 24 + chunk.length) throw new Error(`the framer holds ${framer.buffered} bytes`)
  }
  return 'frames'
}

/** Octet-counted frames cut anywhere come out whole, in order, and nothing else. */
export const splitFrames = fc.record({
  messages: fc.array(fc.string({ minLength: 1, maxLength: 200 }).map((text) => `<13>${text}`), { minLength: 1, maxLength: 20 }),
  cuts: fc.array(fc.nat({ max: 5000 }), { maxLength: 12 })
})

export function checkReassembly ({ messages, cuts }: { messages: string[], cuts: number[] }): void {
  const bytes = Buffer.from(messages.map((text) => `${Buffer.byteLength(text)} ${text}`).join(''))
  const framer = new SyslogFramer('detect', 100_000)
  const out: string[] = []
  let from = 0
  for (const to of [...[...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b), bytes.length]) {
    framer.push(bytes.subarray(from, to))
    from = to
    for (let frame = framer.next(); frame !== undefined; frame = framer.next()) {
      if (!Buffer.isBuffer(frame)) throw new Error(`a valid stream was refused: ${frame.problem}`)
      out.push(frame.toString())
    }
  }
  // A message's own trailing LF, CR or NUL is a trailer the framer strips, as syslog-ng's syslog() needs.
  const expected = messages.map((text) => text.replace(/\0$/, '').replace(/\n$/, '').replace(/\r$/, ''))
  if (JSON.stringify(out) !== JSON.stringify(expected)) throw new Error(`frames came out as ${JSON.stringify(out)}, not ${JSON.stringify(expected)}`)
  if (framer.buffered !== 0) throw new Error(`${framer.buffered} bytes left over`)
}

const relpPiece = fc.oneof(
  fc.tuple(fc.nat({ max: 999_999_999 }), fc.constantFrom('open', 'syslog', 'close', 'rsp', 'starttls', 'x'), message)
    .map(([txnr, command, data]) => Buffer.byteLength(data) === 0 ? `${txnr} ${command} 0\n` : `${txnr} ${command} ${Buffer.byteLength(data)} ${data}\n`),
  message,
  fc.stringMatching(/^\d{1,40}$/),
  fc.constantFrom('1 syslog 99999999999 ', '1 syslog 131073 ', '1  syslog 1 a\n', '1 syslog 1 ab\n', '\n\n', '0 serverclose 0\n', '1 syslog -1 a\n')
)

/** A RELP session's bytes, hostile or not, cut anywhere. */
export const hostileRelp = fc.record({
  text: fc.array(relpPiece, { maxLength: 20 }).map((parts) => parts.join('')),
  cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 10 })
})

/** The RELP framer on a hostile stream: no throw, no frame's data over the limit, never more than one frame held. */
export function checkRelpFraming ({ text, cuts }: { text: string, cuts: number[] }): 'frames' | 'error' {
  const bytes = Buffer.from(text)
  const framer = new RelpFramer(MAX)
  let from = 0
  for (const to of [...[...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b), bytes.length]) {
    const chunk = bytes.subarray(from, to)
    from = to
    framer.push(chunk)
    for (let frame = framer.next(); frame !== undefined; frame = framer.next()) {
      if ('problem' in frame) return 'error'
      if (frame.data.length > MAX) throw new Error(`a frame with ${frame.data.length} bytes of data passed the limit of ${MAX}`)
    }
    if (framer.buffered > MAX + 64 + chunk.length) throw new Error(`the RELP framer holds ${framer.buffered} bytes`)
  }
  return 'frames'
}

const forwardPiece = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.array(fc.tuple(fc.oneof(fc.nat(), fc.double()), fc.anything({ maxDepth: 3 })), { maxLength: 5 }), fc.option(fc.record({ chunk: fc.string({ maxLength: 30 }) })))
    .map(([tag, events, option]) => Buffer.from(encode(option === null ? [tag, events] : [tag, events, option]))),
  fc.anything({ maxDepth: 4 }).map((value) => Buffer.from(encode(value, { ignoreUndefined: true }))),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  // PINGs of every shape, for a codec that waits for the handshake.
  fc.tuple(fc.anything({ maxDepth: 1 }), fc.oneof(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 })), fc.oneof(fc.string({ maxLength: 130 }), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 128, maxLength: 128 })), fc.nat({ max: 7 }))
    .map(([host, salt, digest, length]) => Buffer.from(encode(['PING', host, salt, digest, '', '', 'extra'].slice(0, length), { ignoreUndefined: true }))),
  fc.constantFrom(
    Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0xdb, 0x7f, 0xff, 0xff, 0xff]),
    Buffer.alloc(80, 0x91), Buffer.from([0xc1]), Buffer.from([0x92, 0xa1, 0x61, 0xc4, 0x02, 0x91, 0x01])
  )
)

/** A Forward connection's bytes, hostile or not, cut anywhere. */
export const hostileForward = fc.record({
  parts: fc.array(forwardPiece, { maxLength: 12 }),
  sharedKey: fc.option(fc.string({ minLength: 1, maxLength: 16 })),
  cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 10 })
})

/** The Forward codec on a hostile stream: no throw, never more than one message held. */
export function checkForwardFraming ({ parts, sharedKey, cuts }: { parts: Buffer[], sharedKey: string | null, cuts: number[] }): 'units' | 'error' {
  const bytes = Buffer.concat(parts)
  const codec = forwardCodec(MAX, sharedKey === null ? undefined : { sharedKey, nonce: Buffer.alloc(16, 7), hostname: 'logfire' })
  let from = 0
  for (const to of [...[...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b), bytes.length]) {
    const chunk = bytes.subarray(from, to)
    from = to
    codec.push(chunk)
    for (let unit = codec.next(); unit !== undefined; unit = codec.next()) {
      if ('problem' in unit || (unit.kind === 'control' && unit.end !== undefined)) return 'error'
      if (unit.kind === 'entries') for (const entry of unit.entries) JSON.parse(entry)
    }
    if (codec.buffered > MAX + chunk.length) throw new Error(`the Forward codec holds ${codec.buffered} bytes`)
  }
  return 'units'
}

/** GELF chunks as a flood of hostile datagrams: duplicates, out of order, counts of 0 and 129, sequences past the count, many ids. */
export const hostileGelfChunks = fc.array(fc.record({
  id: fc.integer({ min: 0, max: 40 }),
  sequence: fc.integer({ min: 0, max: 255 }),
  count: fc.integer({ min: 0, max: 255 }),
  data: fc.uint8Array({ maxLength: 300 }),
  advanceMs: fc.integer({ min: 0, max: 3000 })
}), { maxLength: 60 })

/** Reassembly never throws, and stays within its bounds in messages and bytes. */
export function checkGelfChunks (datagrams: Array<{ id: number, sequence: number, count: number, data: Uint8Array, advanceMs: number }>): number {
  let now = 0
  const chunks = new GelfChunks({ maxPending: 8, maxBytes: 4096, windowMs: 5000 }, () => now)
  let whole = 0
  for (const { id, sequence, count, data, advanceMs } of datagrams) {
    now += advanceMs
    const datagram = Buffer.concat([Buffer.from([0x1e, 0x0f]), Buffer.alloc(8, id), Buffer.from([sequence, count]), data])
    if (chunks.add(datagram) !== undefined) whole++
    if (chunks.pending > 8 || chunks.bytes > 4096) throw new Error(`reassembly holds ${chunks.pending} messages, ${chunks.bytes} bytes`)
  }
  return whole
}
