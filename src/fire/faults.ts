import type { Random } from './random.js'
import { NO_STREAM_FAULT_SETTINGS, type StreamFaultSettings } from './stream-faults.js'

/**
 * The faults below the status line: what a real network and a real sink do
 * to a shipper besides answering 503. Each is rolled per request, from the
 * same seeded draws as lp0 and the burn, or forced with X-Logfire-Chaos.
 */
export type Fault =
  /** The normal answer, later; applied before the body is read. */
  | { name: 'delay', ms: number }
  /** The body read at this rate, so the client feels back-pressure; at full speed again after `forMs`. */
  | { name: 'slow-read', bytesPerSecond: number, forMs: number }
  /** The normal answer, its body trickled out over this long. */
  | { name: 'slow-response', ms: number }
  /** The body is read, then nothing is sent until `ms` have passed or the server closes. */
  | { name: 'hang', ms: number }
  /** A TCP RST right after the headers: nothing stored. */
  | { name: 'reset' }
  /** The entries are stored, then a TCP RST instead of the answer: a retry duplicates them. */
  | { name: 'reset-after-append' }
  /** The body is read, then the connection closes without a byte of answer. */
  | { name: 'close' }
  /** The entries are stored, then a 200 status line and a broken chunked body. */
  | { name: 'garbage' }
  /** This status in logfire's error shape, instead of the answer: nothing stored. */
  | { name: 'status', code: number }

export type FaultName = Fault['name']

/** Every fault with the setting that rolls it, in the order a request meets them. */
export const FAULT_RATES = {
  delay: 'delayRate',
  reset: 'resetRate',
  status: 'statusRate',
  hang: 'hangRate',
  close: 'closeRate',
  'slow-read': 'slowReadRate',
  'reset-after-append': 'resetAfterAppendRate',
  garbage: 'garbageRate',
  'slow-response': 'slowResponseRate'
} as const satisfies Record<FaultName, keyof FaultSettings>

export const FAULT_NAMES = Object.keys(FAULT_RATES) as FaultName[]
const RATES = Object.values(FAULT_RATES)

/** Faults that keep a connection open for a while: LOGFIRE_MAX_HELD_CONNECTIONS bounds them. */
export const HOLDING: ReadonlySet<FaultName> = new Set(['delay', 'slow-read', 'slow-response', 'hang'])

export type DelayDistribution = 'uniform' | 'lognormal'

/** How often each fault is rolled, and its parameters: part of the live settings. The stream faults are rolled for stream messages only. */
export interface FaultSettings extends StreamFaultSettings {
  delayRate: number
  /** uniform: the middle of the range; lognormal: the median. */
  delayMs: number
  /** uniform: delays spread evenly over delayMs ± this; 0 is a fixed delay. */
  delayJitterMs: number
  delayDistribution: DelayDistribution
  /** lognormal: the spread of the logarithm; 0.5 puts 1 delay in 20 past 2.3 × the median. */
  delaySigma: number
  slowReadRate: number
  slowReadBytesPerSecond: number
  slowResponseRate: number
  slowResponseMs: number
  hangRate: number
  /** When a hung connection is closed, unless the idle timeout comes first. */
  hangMs: number
  resetRate: number
  resetAfterAppendRate: number
  closeRate: number
  garbageRate: number
  statusRate: number
  /** The statuses statusRate picks from, evenly. */
  statusCodes: number[]
}

/** All off: `npm start` behaves as if faults did not exist. */
export const NO_FAULT_SETTINGS: FaultSettings = {
  delayRate: 0,
  delayMs: 1000,
  delayJitterMs: 0,
  delayDistribution: 'uniform',
  delaySigma: 0.5,
  slowReadRate: 0,
  slowReadBytesPerSecond: 16 * 1024,
  slowResponseRate: 0,
  slowResponseMs: 5000,
  hangRate: 0,
  hangMs: 300_000,
  resetRate: 0,
  resetAfterAppendRate: 0,
  closeRate: 0,
  garbageRate: 0,
  statusRate: 0,
  statusCodes: [500, 502, 503, 504],
  ...NO_STREAM_FAULT_SETTINGS
}

/** LOGFIRE_CHAOS_PRESET: named sets of fault settings; a variable set on its own still wins. */
export const CHAOS_PRESETS = {
  /** Every fault on at a moderate rate: about one request in four meets one. */
  'hostile-network': {
    delayRate: 0.1,
    delayMs: 250,
    delayDistribution: 'lognormal',
    delaySigma: 0.8,
    slowReadRate: 0.03,
    slowReadBytesPerSecond: 64 * 1024,
    slowResponseRate: 0.03,
    slowResponseMs: 2000,
    hangRate: 0.01,
    hangMs: 30_000,
    resetRate: 0.02,
    resetAfterAppendRate: 0.02,
    closeRate: 0.02,
    garbageRate: 0.01,
    statusRate: 0.03,
    statusCodes: [429, 500, 502, 503, 504],
    // A stream message in about 300 meets one: at a few thousand a second, several a second.
    streamResetRate: 0.0005,
    streamResetAfterAppendRate: 0.0005,
    streamCloseRate: 0.0005,
    streamStallRate: 0.0005,
    streamStallResetRate: 0.0005,
    streamStallMs: 2000,
    streamSlowReadRate: 0.0005,
    streamSlowReadBytesPerSecond: 16 * 1024,
    streamSlowReadMs: 5000
  }
} satisfies Record<string, Partial<FaultSettings>>

export type ChaosPreset = keyof typeof CHAOS_PRESETS

/** Rolled for no request: the one empty list every calm request shares. */
export const NO_FAULTS: readonly Fault[] = Object.freeze([])

/**
 * The faults request N meets, from its draws after lp0's and the burn's.
 * Each fault is rolled on its own; when several are rolled for one request,
 * the first in FAULT_NAMES's order ends it, and the delays still apply. No
 * draw is made while every rate is 0, which changes nothing: each draw of a
 * request is a function of (seed, N, k) alone.
 */
export function rollFaults (random: Random, settings: FaultSettings): readonly Fault[] {
  if (RATES.every((rate) => settings[rate] === 0)) return NO_FAULTS
  const faults: Fault[] = []
  const hit = (rate: number): boolean => random() < rate
  // Drawn whether or not the delay is rolled, so every draw keeps its place.
  const delay = delayMs(settings, random(), random())
  if (hit(settings.delayRate)) faults.push({ name: 'delay', ms: delay })
  if (hit(settings.resetRate)) faults.push({ name: 'reset' })
  const pick = random()
  if (hit(settings.statusRate) && settings.statusCodes.length > 0) {
    faults.push({ name: 'status', code: settings.statusCodes[Math.floor(pick * settings.statusCodes.length)] as number })
  }
  if (hit(settings.hangRate)) faults.push({ name: 'hang', ms: settings.hangMs })
  if (hit(settings.closeRate)) faults.push({ name: 'close' })
  if (hit(settings.slowReadRate)) faults.push({ name: 'slow-read', bytesPerSecond: settings.slowReadBytesPerSecond, forMs: Infinity })
  if (hit(settings.resetAfterAppendRate)) faults.push({ name: 'reset-after-append' })
  if (hit(settings.garbageRate)) faults.push({ name: 'garbage' })
  if (hit(settings.slowResponseRate)) faults.push({ name: 'slow-response', ms: settings.slowResponseMs })
  return faults
}

/** One delay from the configured distribution, from two uniform draws. */
export function delayMs (settings: Pick<FaultSettings, 'delayMs' | 'delayJitterMs' | 'delayDistribution' | 'delaySigma'>, u1: number, u2: number): number {
  if (settings.delayDistribution === 'lognormal') {
    // Box–Muller: a standard normal from two uniforms (1 - u1 is never 0).
    const normal = Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2)
    return Math.round(settings.delayMs * Math.exp(settings.delaySigma * normal))
  }
  return Math.max(0, Math.round(settings.delayMs + (2 * u1 - 1) * settings.delayJitterMs))
}

/** The first fault of this kind the request meets, if any. */
export function faultOf<N extends FaultName> (faults: readonly Fault[], name: N): Extract<Fault, { name: N }> | undefined {
  for (const fault of faults) if (fault.name === name) return fault as Extract<Fault, { name: N }>
  return undefined
}
