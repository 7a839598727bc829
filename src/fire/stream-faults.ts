import type { Random } from './random.js'

/** The stream listeners, as events, metrics and scenario steps name them. */
export const STREAM_PROTOCOLS = ['syslog-tcp', 'syslog-udp', 'syslog-tls', 'relp', 'forward', 'gelf-tcp', 'gelf-udp'] as const
export type StreamProtocol = typeof STREAM_PROTOCOLS[number]

/*
 * The faults of a stream (syslog over TCP or TLS): what a dying sink does to
 * a connection that has no way to say no. Each meets one message; the names
 * mean what they mean on HTTP.
 */
export type StreamFault =
  /** RST before the message is stored: it and everything after it in flight are lost. */
  | { name: 'reset' }
  /** The message is stored, then RST. */
  | { name: 'reset-after-append' }
  /** FIN before the message is stored: the shipper's next write is answered with a RST. */
  | { name: 'close' }
  /** Reading stops for `ms`, then goes on; with `reset`, a RST instead of going on. */
  | { name: 'stall', ms: number, reset: boolean }
  /** From this message on, read at this rate for `forMs`. */
  | { name: 'slow-read', bytesPerSecond: number, forMs: number }
  /** Reading stops until `ms` have passed or the server closes, then the connection ends. */
  | { name: 'hang', ms: number }
  /** On an acked protocol, a negative answer (RELP's rsp 500); nothing stored. A plain stream drops the message. */
  | { name: 'nak' }
  /** On an acked protocol, stored and never answered, the session left open. A plain stream just stores it. */
  | { name: 'ack-loss' }
  /** On Forward, stored and acknowledged with another chunk's id. Elsewhere, stored and answered as usual. */
  | { name: 'ack-wrong' }

export type StreamFaultName = StreamFault['name']

/** A stream message's fate: lp0 and GDPR drop it, the burn burns, a fault acts on its connection. */
export interface StreamFate {
  fire: boolean
  burn: boolean
  fault: StreamFault | undefined
}

/** A fault as the scorecard, the metrics and the page name it: "stall, reset" is one fault. */
export function faultLabel (fault: { name: string, reset?: boolean, code?: number }): string {
  if (fault.name === 'status') return `status ${fault.code}`
  return fault.name === 'stall' && fault.reset === true ? 'stall, reset' : fault.name
}

export const CALM_STREAM: StreamFate = Object.freeze({ fire: false, burn: false, fault: undefined })

/** How often each stream fault is rolled per message, and its parameters: part of the live settings, all 0 by default. */
export interface StreamFaultSettings {
  streamResetRate: number
  streamResetAfterAppendRate: number
  streamCloseRate: number
  streamStallRate: number
  /** Stall, then RST: the silent loss of everything in flight. */
  streamStallResetRate: number
  streamStallMs: number
  streamSlowReadRate: number
  streamSlowReadBytesPerSecond: number
  streamSlowReadMs: number
  streamHangRate: number
  /** Acked protocols (RELP): a negative answer, nothing stored. */
  streamNakRate: number
  /** Acked protocols (RELP): stored, never answered. */
  streamAckLossRate: number
  /** Forward: stored, acknowledged with another chunk's id. */
  streamAckWrongRate: number
}

export const NO_STREAM_FAULT_SETTINGS: StreamFaultSettings = {
  streamResetRate: 0,
  streamResetAfterAppendRate: 0,
  streamCloseRate: 0,
  streamStallRate: 0,
  streamStallResetRate: 0,
  streamStallMs: 3000,
  streamSlowReadRate: 0,
  streamSlowReadBytesPerSecond: 1024,
  streamSlowReadMs: 10_000,
  streamHangRate: 0,
  streamNakRate: 0,
  streamAckLossRate: 0,
  streamAckWrongRate: 0
}

const RATES = ['streamStallResetRate', 'streamStallRate', 'streamHangRate', 'streamSlowReadRate', 'streamCloseRate', 'streamResetRate', 'streamResetAfterAppendRate', 'streamNakRate', 'streamAckLossRate', 'streamAckWrongRate'] as const

/**
 * Message N's fate from its draws: lp0 and the burn first, as for a request,
 * then each stream fault in turn; the first rolled is the one met. No fault
 * is drawn while every stream rate is 0.
 */
export function rollStreamFate (random: Random, settings: StreamFaultSettings & { fireRate: number, burnRate: number, hangMs: number }): StreamFate {
  const fire = random() < settings.fireRate
  const burn = random() < settings.burnRate
  let fault: StreamFault | undefined
  if (RATES.some((rate) => settings[rate] > 0)) {
    for (const rate of RATES) {
      if (!(random() < settings[rate]) || fault !== undefined) continue
      fault = faultFor(rate, settings)
    }
  }
  return fire || burn || fault !== undefined ? { fire, burn, fault } : CALM_STREAM
}

function faultFor (rate: typeof RATES[number], settings: StreamFaultSettings & { hangMs: number }): StreamFault {
  switch (rate) {
    case 'streamStallResetRate': return { name: 'stall', ms: settings.streamStallMs, reset: true }
    case 'streamStallRate': return { name: 'stall', ms: settings.streamStallMs, reset: false }
    case 'streamHangRate': return { name: 'hang', ms: settings.hangMs }
    case 'streamSlowReadRate': return { name: 'slow-read', bytesPerSecond: settings.streamSlowReadBytesPerSecond, forMs: settings.streamSlowReadMs }
    case 'streamCloseRate': return { name: 'close' }
    case 'streamResetRate': return { name: 'reset' }
    case 'streamResetAfterAppendRate': return { name: 'reset-after-append' }
    case 'streamNakRate': return { name: 'nak' }
    case 'streamAckLossRate': return { name: 'ack-loss' }
    case 'streamAckWrongRate': return { name: 'ack-wrong' }
  }
}

/** The directives a stream message may be given, as a scenario's "messages" step takes them. */
export const STREAM_DIRECTIVES = ['off', 'fire', 'burn', 'reset', 'reset-after-append', 'close', 'stall=<ms>', 'stall=<ms>, reset', 'slow-read=<bytes per second>', 'hang', 'nak', 'ack-loss', 'ack-wrong'] as const

/**
 * A stream message's fate from X-Logfire-Chaos-style directives, e.g.
 * "stall=3000, reset". What it does not name does not happen.
 */
export function parseStreamChaos (value: string, limits: { maxForcedDelayMs: number, hangMs: number }): StreamFate | { directive: string, problem: string } {
  let fire = false
  let burn = false
  let stallMs: number | undefined
  let ending: 'reset' | 'reset-after-append' | 'close' | 'hang' | 'nak' | 'ack-loss' | 'ack-wrong' | undefined
  let slowRead: number | undefined
  for (const raw of value.split(',')) {
    const directive = raw.trim().toLowerCase()
    const [name = '', argument] = directive.split('=', 2).map((part) => part.trim())
    const problem = (text: string) => ({ directive, problem: text })
    if (argument === undefined) {
      switch (name) {
        case '':
        case 'off': continue
        case 'fire': fire = true; continue
        case 'burn':
        case 'wipe': burn = true; continue
        case 'reset':
        case 'reset-after-append':
        case 'close':
        case 'hang':
        case 'nak':
        case 'ack-loss':
        case 'ack-wrong':
          if (ending !== undefined) return problem(`${ending} and ${name} cannot meet one message`)
          ending = name
          continue
        case 'stall':
        case 'slow-read': return problem(`${name} needs a value, e.g. ${name}=1000`)
      }
      return problem('not a stream directive: ' + STREAM_DIRECTIVES.join(', '))
    }
    const number = /^\d{1,16}$/.test(argument) ? Number(argument) : NaN
    if (name === 'stall') {
      if (!(number >= 0)) return problem('stall takes a whole number of milliseconds')
      stallMs = Math.min(number, limits.maxForcedDelayMs)
    } else if (name === 'slow-read') {
      if (!(number >= 1)) return problem('slow-read takes a whole number of bytes per second, at least 1')
      slowRead = number
    } else {
      return problem('not a stream directive that takes a value')
    }
  }
  if (stallMs !== undefined && ending !== undefined && ending !== 'reset') return problem2(value, 'stall goes with reset only')
  if (slowRead !== undefined && (stallMs !== undefined || ending !== undefined)) return problem2(value, 'slow-read goes with no other fault')
  let fault: StreamFault | undefined
  if (stallMs !== undefined) fault = { name: 'stall', ms: stallMs, reset: ending === 'reset' }
  else if (slowRead !== undefined) fault = { name: 'slow-read', bytesPerSecond: slowRead, forMs: limits.maxForcedDelayMs }
  else if (ending === 'hang') fault = { name: 'hang', ms: limits.hangMs }
  else if (ending !== undefined) fault = { name: ending }
  return { fire, burn, fault }
}

const problem2 = (value: string, problem: string) => ({ directive: value.trim().toLowerCase(), problem })
