import { SyslogFramer, type FramingError, type FramingMode } from './framing.js'

/** What became of a unit, as its protocol's answer says it: stored, refused by the fire, refused by a fault, or refused for a token that opens no fire; or stored and answered wrongly (ack-wrong). */
export type Answer = 'stored' | 'lp0' | 'gdpr' | 'burn' | 'nak' | 'token' | 'wrong-ack'

/** A protocol's answer: bytes to send, and whether the session ends after them (Forward has no way to say no but to hang up). */
export interface Reply { bytes?: Buffer, close?: boolean }

/**
 * One unit a stream protocol carries: entries that meet the fire together
 * (a syslog message, a RELP syslog frame), with the answer the protocol
 * gives once their fate is known; or a control frame answered at once.
 */
export type Unit =
  | { kind: 'entries', entries: string[], answer?: (answer: Answer) => Reply }
  | { kind: 'control', reply: Buffer | undefined, end?: 'client' | 'unauthenticated', fireToken?: { token: string, refused: Buffer } }

/**
 * A stream protocol, one per connection: bytes in, units out, bounded as
 * its framer is. Pure: it never touches the socket.
 */
export interface StreamCodec {
  push: (chunk: Buffer) => void
  next: () => Unit | FramingError | undefined
  /** Bytes read but not yet a whole unit. */
  readonly buffered: number
  /** Said when the connection opens, where the protocol speaks first (Forward's HELO). */
  readonly greeting?: Buffer
  /** Said before logfire ends a session on its own, where the protocol has a word for it (RELP's serverclose). */
  readonly goodbye?: Buffer
}

/** Plain syslog: each message is one entry, and nothing is ever answered. */
export function syslogCodec (mode: FramingMode, maxMessageBytes: number): StreamCodec {
  const framer = new SyslogFramer(mode, maxMessageBytes)
  return {
    push: (chunk) => { framer.push(chunk) },
    next: () => {
      const frame = framer.next()
      return frame === undefined || !Buffer.isBuffer(frame) ? frame : { kind: 'entries', entries: [frame.toString('utf8')] }
    },
    get buffered () { return framer.buffered }
  }
}
