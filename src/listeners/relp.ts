import type { Answer, StreamCodec, Unit } from './codec.js'
import { withoutTrailer, type FramingError } from './framing.js'

/*
 * RELP, the Reliable Event Logging Protocol (librelp's doc/relp.md):
 *
 *   TXNR SP COMMAND SP DATALEN [SP DATA] LF
 *
 * The client sends open, syslog and close; the server answers each with
 * `rsp`, in txnr order, "200 OK" or "500 <reason>". Every syslog frame is
 * acknowledged, so a broken session is resent: at least once, and so
 * duplicates.
 */

export interface RelpFrame { txnr: number, command: string, data: Buffer }

const LF = 0x0a
const SPACE = 0x20
const ZERO = 0x30
const NINE = 0x39

/** Splits a RELP byte stream into frames, refusing any header or DATALEN out of bounds before buffering its data. */
export class RelpFramer {
  readonly #maxDataBytes: number
  #buffer: Buffer = Buffer.alloc(0)
  #offset = 0

  constructor (maxDataBytes: number) {
    this.#maxDataBytes = maxDataBytes
  }

  get buffered (): number { return this.#buffer.length - this.#offset }

  push (chunk: Buffer): void {
    this.#buffer = this.#offset >= this.#buffer.length ? chunk : Buffer.concat([this.#buffer.subarray(this.#offset), chunk])
    this.#offset = 0
  }

  next (): RelpFrame | FramingError | undefined {
    const buffer = this.#buffer
    let at = this.#offset
    // A stray LF between frames is tolerated.
    while (at < buffer.length && buffer[at] === LF) at++
    this.#offset = at
    const header = this.#header(buffer, at)
    if (header === undefined || 'problem' in header) return header
    const { txnr, command, length, dataAt } = header
    if (length === 0) {
      if (dataAt >= buffer.length) return undefined
      if (buffer[dataAt] !== LF) return { problem: 'bad-frame' }
      this.#offset = dataAt + 1
      return { txnr, command, data: Buffer.alloc(0) }
    }
    const end = dataAt + length
    if (end >= buffer.length) return undefined
    if (buffer[end] !== LF) return { problem: 'bad-frame' }
    this.#offset = end + 1
    return { txnr, command, data: buffer.subarray(dataAt, end) }
  }

  // TXNR SP COMMAND SP DATALEN, then SP before any data or the LF of an empty frame.
  #header (buffer: Buffer, start: number): { txnr: number, command: string, length: number, dataAt: number } | FramingError | undefined {
    const txnrEnd = scan(buffer, start, 9, isDigit, (byte) => byte === SPACE)
    if (typeof txnrEnd !== 'number') return txnrEnd
    const commandEnd = scan(buffer, txnrEnd + 1, 32, isLetter, (byte) => byte === SPACE)
    if (typeof commandEnd !== 'number') return commandEnd
    const digits = String(this.#maxDataBytes).length
    const lengthEnd = scan(buffer, commandEnd + 1, digits, isDigit, (byte) => byte === SPACE || byte === LF)
    if (lengthEnd === undefined) return undefined
    if (typeof lengthEnd !== 'number') return lengthEnd.problem === 'bad-frame' && buffer.subarray(commandEnd + 1, commandEnd + 1 + digits + 1).every(isDigit) ? { problem: 'frame-too-long', bytes: Infinity } : lengthEnd
    const length = Number(buffer.toString('latin1', commandEnd + 1, lengthEnd))
    if (length > this.#maxDataBytes) return { problem: 'frame-too-long', bytes: length }
    if (buffer[lengthEnd] === LF && length > 0) return { problem: 'bad-frame' }
    return {
      txnr: Number(buffer.toString('latin1', start, txnrEnd)),
      command: buffer.toString('latin1', txnrEnd + 1, commandEnd).toLowerCase(),
      length,
      dataAt: buffer[lengthEnd] === LF ? lengthEnd : lengthEnd + 1
    }
  }
}

const isDigit = (byte: number): boolean => byte >= ZERO && byte <= NINE
const isLetter = (byte: number): boolean => (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)

/** Where a field of 1 to `max` valid bytes ends (its terminator's index); undefined while it may go on; an error once it cannot be one. */
function scan (buffer: Buffer, from: number, max: number, valid: (byte: number) => boolean, ends: (byte: number) => boolean): number | FramingError | undefined {
  for (let at = from; at < buffer.length; at++) {
    const byte = buffer[at] as number
    if (ends(byte)) return at === from ? { problem: 'bad-frame' } : at
    if (!valid(byte) || at - from >= max) return { problem: 'bad-frame' }
  }
  return undefined
}

/** librelp's default DATALEN limit. */
export const RELP_MAX_DATA_BYTES = 128 * 1024

const response = (txnr: number, data: string): Buffer => {
  const bytes = Buffer.from(data)
  return Buffer.concat([Buffer.from(bytes.length === 0 ? `${txnr} rsp 0\n` : `${txnr} rsp ${bytes.length} `), bytes, bytes.length === 0 ? Buffer.alloc(0) : Buffer.from('\n')])
}

const REASONS: Record<Exclude<Answer, 'stored' | 'wrong-ack'>, string> = {
  lp0: '500 lp0 on fire',
  gdpr: '500 451 mentions the EU, the UK or Europe: not processed here',
  burn: '500 410 the chain burned down: not stored',
  nak: '500 refused by logfire\'s chaos (nak)',
  token: '500 401 this fire\'s token opens no fire: not stored'
}

/**
 * RELP for one session: `open` answered with the offers (the client's
 * relp_version echoed: rsyslog offers 0), `syslog` frames as entries whose
 * answer is their `rsp`, `close` answered and the session ended.
 */
export function relpCodec (maxDataBytes: number, software: string): StreamCodec {
  const framer = new RelpFramer(maxDataBytes)
  const unit = (frame: RelpFrame): Unit => {
    const { txnr, command, data } = frame
    switch (command) {
      case 'open': {
        const offered = /(?:^|\n)relp_version=(\d{1,3})(?:\n|$)/.exec(data.toString('latin1'))?.[1] ?? '0'
        return { kind: 'control', reply: response(txnr, `200 OK\nrelp_version=${offered}\nrelp_software=${software}\ncommands=syslog`) }
      }
      case 'syslog':
        return {
          kind: 'entries',
          entries: [withoutTrailer(data).toString('utf8')],
          // RELP has no chunk id to get wrong: a wrong ack is a right one.
          answer: (answer) => ({ bytes: response(txnr, answer === 'stored' || answer === 'wrong-ack' ? '200 OK' : REASONS[answer]) })
        }
      case 'close':
        return { kind: 'control', reply: response(txnr, ''), end: 'client' }
      default:
        return { kind: 'control', reply: response(txnr, `500 command ${command} not supported; commands=syslog`) }
    }
  }
  return {
    push: (chunk) => { framer.push(chunk) },
    next: () => {
      const frame = framer.next()
      return frame === undefined || 'problem' in frame ? frame : unit(frame)
    },
    get buffered () { return framer.buffered },
    goodbye: Buffer.from('0 serverclose 0\n')
  }
}
