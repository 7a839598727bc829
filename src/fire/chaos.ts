import type { Random } from './random.js'

export interface ChaosRates {
  fireRate: number
  burnRate: number
}

/** What the X-Logfire-Chaos request header may ask for; `wipe` is the old name of `burn`. */
export const CHAOS_OVERRIDES = ['off', 'fire', 'burn', 'wipe'] as const
export type ChaosOverride = typeof CHAOS_OVERRIDES[number]

/** The random part of a request's fate, decided when it arrives. */
export interface ChaosRoll {
  /** lp0 is on fire: answer 503. */
  fire: boolean
  /** The chain burns down if this request is an append: answer 410. */
  burn: boolean
}

export function isChaosOverride (value: unknown): value is ChaosOverride {
  return (CHAOS_OVERRIDES as readonly unknown[]).includes(value)
}

/**
 * Always draws exactly two numbers, whatever the override, so the fate of
 * request N depends only on the seed and N.
 */
export function rollChaos (random: Random, rates: ChaosRates, override?: ChaosOverride): ChaosRoll {
  const fire = random() < rates.fireRate
  const burn = random() < rates.burnRate
  switch (override) {
    case 'off': return { fire: false, burn: false }
    case 'fire': return { fire: true, burn: false }
    case 'burn':
    case 'wipe': return { fire: false, burn: true }
    default: return { fire, burn }
  }
}
