/*
 * Syslog framing over a byte stream (RFC 6587, RFC 5425), decided per frame
 * as rsyslog's imtcp does: a frame that starts with a digit is octet-counted
 * ("MSG-LEN SP MSG"), any other is non-transparent, ending at LF or NUL.
 * Pure: bytes in, frames out, nothing buffered past the bounds.
 */

/** How frames are told apart: per frame (plain TCP), or octet counting only (TLS, RFC 5425). */
export type FramingMode = 'detect' | 'octet-counting'

/** Why a connection's bytes cannot be framed: the connection ends at once. */
export type FramingError =
  | { problem: 'frame-too-long', bytes: number }
  | { problem: 'bad-octet-count' }
  /** Not a frame of the protocol at all (RELP's header). */
  | { problem: 'bad-frame' }

const LF = 0x0a
const CR = 0x0d
const NUL = 0x00
const SPACE = 0x20
const ZERO = 0x30
const NINE = 0x39

export class SyslogFramer {
  readonly #mode: FramingMode
  readonly #maxFrameBytes: number
  // The longest MSG-LEN a frame may have, in digits: more digits are over the limit whatever they say.
  readonly #maxDigits: number
  #buffer: Buffer = Buffer.alloc(0)
  #offset = 0

  constructor (mode: FramingMode, maxFrameBytes: number) {
    this.#mode = mode
    this.#maxFrameBytes = maxFrameBytes
    this.#maxDigits = String(maxFrameBytes).length
  }

  /** Bytes read but not yet framed: an unfinished frame, when the stream ends here. */
  get buffered (): number {
    return this.#buffer.length - this.#offset
  }

  push (chunk: Buffer): void {
    if (this.#offset >= this.#buffer.length) {
      this.#buffer = chunk
    } else {
      this.#buffer = Buffer.concat([this.#buffer.subarray(this.#offset), chunk])
    }
    this.#offset = 0
  }

  /**
   * The next whole frame's message, framing removed; undefined until one is
   * complete; a FramingError when the bytes can never make a frame within
   * the limit. Frames are views of the pushed bytes.
   */
  next (): Buffer | FramingError | undefined {
    const buffer = this.#buffer
    // Trailers a sender adds between frames (CR LF, NUL, a stray LF) are not frames.
    let start = this.#offset
    while (start < buffer.length && (buffer[start] === LF || buffer[start] === CR || buffer[start] === NUL)) start++
    this.#offset = start
    if (start >= buffer.length) return undefined
    const first = buffer[start] as number
    if (first >= ZERO && first <= NINE) return this.#octetCounted(buffer, start)
    if (this.#mode === 'octet-counting') return { problem: 'bad-octet-count' }
    return this.#terminated(buffer, start)
  }

  #octetCounted (buffer: Buffer, start: number): Buffer | FramingError | undefined {
    let length = 0
    let at = start
    for (; at < buffer.length; at++) {
      const byte = buffer[at] as number
      if (byte === SPACE) break
      if (byte < ZERO || byte > NINE || at - start >= this.#maxDigits) return this.#tooLongOrBad(byte, at - start)
      length = length * 10 + (byte - ZERO)
    }
    if (length > this.#maxFrameBytes) return { problem: 'frame-too-long', bytes: length }
    if (at >= buffer.length) return undefined
    // MSG-LEN has no leading zero and is at least 1.
    if (at === start || length === 0 || (buffer[start] === ZERO)) return { problem: 'bad-octet-count' }
    const end = at + 1 + length
    if (end > buffer.length) return undefined
    this.#offset = end
    return withoutTrailer(buffer.subarray(at + 1, end))
  }

  #tooLongOrBad (byte: number, digits: number): FramingError {
    return byte >= ZERO && byte <= NINE && digits >= this.#maxDigits ? { problem: 'frame-too-long', bytes: Infinity } : { problem: 'bad-octet-count' }
  }

  #terminated (buffer: Buffer, start: number): Buffer | FramingError | undefined {
    const limit = Math.min(buffer.length, start + this.#maxFrameBytes + 2)
    for (let at = start; at < limit; at++) {
      const byte = buffer[at]
      if (byte !== LF && byte !== NUL) continue
      this.#offset = at + 1
      const frame = byte === LF && at > start && buffer[at - 1] === CR ? buffer.subarray(start, at - 1) : buffer.subarray(start, at)
      if (frame.length > this.#maxFrameBytes) return { problem: 'frame-too-long', bytes: frame.length }
      return frame
    }
    if (buffer.length - start > this.#maxFrameBytes + 1) return { problem: 'frame-too-long', bytes: buffer.length - start }
    return undefined
  }
}

/**
 * One message as a datagram or an octet-counted frame carries it, without
 * the trailer some senders count in (syslog-ng's syslog() counts its LF).
 */
export function withoutTrailer (message: Buffer): Buffer {
  let end = message.length
  if (end > 0 && message[end - 1] === NUL) end--
  if (end > 0 && message[end - 1] === LF) end--
  if (end > 0 && message[end - 1] === CR) end--
  return end === message.length ? message : message.subarray(0, end)
}
