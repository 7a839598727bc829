import { NO_FAULTS, rollFaults, type Fault, type FaultSettings } from './faults.js'
import type { Random } from './random.js'

export interface ChaosRates extends FaultSettings {
  fireRate: number
  burnRate: number
}

/** A request's fate, decided when it arrives. */
export interface ChaosRoll {
  /** lp0 is on fire: answer 503. */
  fire: boolean
  /** The chain burns down if this request is an append: answer 410. */
  burn: boolean
  /** The faults below the status line, usually none. */
  faults: readonly Fault[]
}

/** No fire, no burn, no fault. */
export const CALM: ChaosRoll = Object.freeze({ fire: false, burn: false, faults: NO_FAULTS })

/**
 * The seeded fate of a request: lp0 and the burn always take draws 1 and 2,
 * so a seed replays as it did before faults existed; the faults draw after.
 */
export function rollChaos (random: Random, rates: ChaosRates): ChaosRoll {
  const fire = random() < rates.fireRate
  const burn = random() < rates.burnRate
  const faults = rollFaults(random, rates)
  return fire || burn || faults !== NO_FAULTS ? { fire, burn, faults } : CALM
}

/** The X-Logfire-Chaos directives, as the OpenAPI document and the 400 list them. */
export const CHAOS_DIRECTIVES = [
  'off', 'fire', 'burn', 'wipe', 'delay=<ms>', 'slow-response=<ms>', 'slow-read=<bytes per second>',
  'hang', 'reset', 'reset-after-append', 'close', 'garbage', 'status=<code>'
] as const

/** Why an X-Logfire-Chaos value was refused: the directive, and what is wrong with it. */
export interface DirectiveError {
  directive: string
  problem: string
}

export interface ForcedFaultLimits {
  /** LOGFIRE_MAX_FORCED_DELAY_MS: delays and slow transfers from a header are cut to this. */
  maxForcedDelayMs: number
  /** How long a forced hang lasts: the same as a rolled one. */
  hangMs: number
}

/**
 * A fate chosen by the client: X-Logfire-Chaos's comma-separated directives,
 * e.g. "delay=1500, reset-after-append". It replaces the whole roll: what it
 * does not name does not happen, so `off` (or an empty list) is a calm
 * request. Case and spaces around directives do not matter.
 */
export function parseChaosHeader (value: string, limits: ForcedFaultLimits): ChaosRoll | DirectiveError {
  const roll = { fire: false, burn: false, faults: [] as Fault[] }
  const cap = (ms: number): number => Math.min(ms, limits.maxForcedDelayMs)
  for (const raw of value.split(',')) {
    const directive = raw.trim().toLowerCase()
    const equals = directive.indexOf('=')
    const name = equals === -1 ? directive : directive.slice(0, equals).trim()
    const argument = equals === -1 ? undefined : directive.slice(equals + 1).trim()
    const problem = (text: string): DirectiveError => ({ directive, problem: text })
    if (argument === undefined) {
      switch (name) {
        case '':
        case 'off': continue
        case 'fire': roll.fire = true; continue
        case 'burn':
        case 'wipe': roll.burn = true; continue
        case 'hang': roll.faults.push({ name, ms: limits.hangMs }); continue
        case 'reset':
        case 'reset-after-append':
        case 'close':
        case 'garbage': roll.faults.push({ name }); continue
      }
      return problem(name in PARAMETERS ? `${name} needs a value, e.g. ${name}=${name === 'status' ? 503 : 1000}` : 'not a directive')
    }
    const parameter = PARAMETERS[name]
    if (parameter === undefined) return problem('not a directive that takes a value')
    const number = /^\d{1,16}$/.test(argument) ? Number(argument) : NaN
    if (!(number >= parameter.min && number <= parameter.max)) return problem(`${name} takes ${parameter.what}`)
    switch (name) {
      case 'delay': roll.faults.push({ name, ms: cap(number) }); break
      case 'slow-response': roll.faults.push({ name, ms: cap(number) }); break
      case 'slow-read': roll.faults.push({ name, bytesPerSecond: number, forMs: limits.maxForcedDelayMs }); break
      case 'status': roll.faults.push({ name, code: number }); break
    }
  }
  return roll
}

const MS = { what: 'a whole number of milliseconds', min: 0, max: Number.MAX_SAFE_INTEGER }
const PARAMETERS: Record<string, { what: string, min: number, max: number } | undefined> = {
  delay: MS,
  'slow-response': MS,
  'slow-read': { what: 'a whole number of bytes per second, at least 1', min: 1, max: Number.MAX_SAFE_INTEGER },
  status: { what: 'a status from 400 to 599', min: 400, max: 599 }
}
