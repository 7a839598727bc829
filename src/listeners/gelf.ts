import { gunzipSync, inflateSync } from 'node:zlib'
import type { StreamCodec } from './codec.js'

/*
 * GELF, Graylog's format: one JSON document per message. Over TCP each ends
 * with a NUL byte and is never compressed; over UDP each datagram is one
 * message, uncompressed, gzip or zlib (told apart by their first bytes), or
 * a chunk of one: 1e 0f, an 8-byte message id, a sequence number and a
 * count of at most 128, all within 5 seconds.
 */

const NUL = 0x00

/** GELF over TCP: NUL-terminated JSON, stored as it arrived. A message longer than the limit ends the connection. */
export function gelfTcpCodec (maxMessageBytes: number): StreamCodec {
  let buffer: Buffer = Buffer.alloc(0)
  let offset = 0
  return {
    push: (chunk) => {
      buffer = offset >= buffer.length ? chunk : Buffer.concat([buffer.subarray(offset), chunk])
      offset = 0
    },
    next: () => {
      // Stray NULs (and the LF some senders add) between messages are not messages.
      while (offset < buffer.length && (buffer[offset] === NUL || buffer[offset] === 0x0a)) offset++
      if (offset >= buffer.length) return undefined
      const end = buffer.indexOf(NUL, offset)
      if (end === -1) return buffer.length - offset > maxMessageBytes ? { problem: 'frame-too-long', bytes: buffer.length - offset } : undefined
      if (end - offset > maxMessageBytes) return { problem: 'frame-too-long', bytes: end - offset }
      const message = buffer.toString('utf8', offset, end)
      offset = end + 1
      return { kind: 'entries', entries: [message] }
    },
    get buffered () { return buffer.length - offset }
  }
}

/** A GELF datagram's payload, decompressed when its first bytes say gzip or zlib; undefined when it cannot be, or is over the limit. */
export function gelfPayload (bytes: Buffer, maxBytes: number): Buffer | undefined {
  try {
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) return gunzipSync(bytes, { maxOutputLength: maxBytes })
    if (bytes[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(bytes[1] as number)) return inflateSync(bytes, { maxOutputLength: maxBytes })
  } catch {
    return undefined
  }
  return bytes.length > maxBytes ? undefined : bytes
}

export interface ChunkLimits {
  /** Messages being reassembled at once; past it the oldest is dropped. */
  maxPending: number
  /** Bytes of chunks held at once; past it the oldest messages are dropped. */
  maxBytes: number
  /** How long a message's chunks may take to arrive (GELF: 5 s). */
  windowMs: number
}

/** What the reassembly dropped, and why: for GET /streams and /metrics. */
export interface ChunkCounts { expired: number, evicted: number, invalid: number, duplicates: number }

interface Pending { parts: Array<Buffer | undefined>, received: number, bytes: number, started: number }

const MAGIC_0 = 0x1e
const MAGIC_1 = 0x0f
const HEADER = 12

/**
 * Reassembles chunked GELF datagrams. Bounded in messages and bytes; a
 * message whose chunks take longer than the window is dropped and counted.
 * The clock is passed in; `sweep` drops the expired ones.
 */
export class GelfChunks {
  readonly #pending = new Map<string, Pending>()
  readonly #limits: ChunkLimits
  readonly #clock: () => number
  #bytes = 0
  readonly counts: ChunkCounts = { expired: 0, evicted: 0, invalid: 0, duplicates: 0 }

  constructor (limits: ChunkLimits, clock: () => number) {
    this.#limits = limits
    this.#clock = clock
  }

  get pending (): number { return this.#pending.size }
  get bytes (): number { return this.#bytes }

  static isChunk (datagram: Buffer): boolean {
    return datagram.length >= 2 && datagram[0] === MAGIC_0 && datagram[1] === MAGIC_1
  }

  /** Takes one chunk; the whole message's bytes once its last chunk has come, else undefined. */
  add (datagram: Buffer): Buffer | undefined {
    this.sweep()
    if (datagram.length <= HEADER) return this.#invalid()
    const id = datagram.toString('latin1', 2, 10)
    const sequence = datagram[10] as number
    const count = datagram[11] as number
    if (count === 0 || count > 128 || sequence >= count) return this.#invalid()
    let message = this.#pending.get(id)
    if (message === undefined) {
      message = { parts: new Array<Buffer | undefined>(count), received: 0, bytes: 0, started: this.#clock() }
      this.#pending.set(id, message)
    } else if (message.parts.length !== count) {
      return this.#invalid()
    }
    if (message.parts[sequence] !== undefined) {
      this.counts.duplicates += 1
      return undefined
    }
    // A copy: the datagram's buffer is not ours to keep.
    const part = Buffer.from(datagram.subarray(HEADER))
    message.parts[sequence] = part
    message.received += 1
    message.bytes += part.length
    this.#bytes += part.length
    if (message.received === count) {
      this.#forget(id, message)
      return Buffer.concat(message.parts as Buffer[])
    }
    this.#bound()
    return undefined
  }

  /** Drops the messages whose window has passed. */
  sweep (): void {
    const oldest = this.#clock() - this.#limits.windowMs
    for (const [id, message] of this.#pending) {
      // Insertion order is arrival order: the first one still in time ends the sweep.
      if (message.started > oldest) break
      this.#forget(id, message)
      this.counts.expired += 1
    }
  }

  #bound (): void {
    for (const [id, message] of this.#pending) {
      if (this.#pending.size <= this.#limits.maxPending && this.#bytes <= this.#limits.maxBytes) break
      this.#forget(id, message)
      this.counts.evicted += 1
    }
  }

  #forget (id: string, message: Pending): void {
    this.#pending.delete(id)
    this.#bytes -= message.bytes
  }

  #invalid (): undefined {
    this.counts.invalid += 1
    return undefined
  }
}
