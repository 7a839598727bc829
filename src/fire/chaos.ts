import type { Random } from './random.js'

export interface ChaosRates {
  fireRate: number
  wipeRate: number
}

/** What the X-Logfire-Chaos request header may ask for. */
export const CHAOS_OVERRIDES = ['off', 'fire', 'wipe'] as const
export type ChaosOverride = typeof CHAOS_OVERRIDES[number]

/** The random part of a request's fate, decided when it arrives. */
export interface ChaosRoll {
  /** lp0 is on fire: answer 503. */
  fire: boolean
  /** The chain burns down if this request is an append: answer 410. */
  wipe: boolean
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
  const wipe = random() < rates.wipeRate
  switch (override) {
    case 'off': return { fire: false, wipe: false }
    case 'fire': return { fire: true, wipe: false }
    case 'wipe': return { fire: false, wipe: true }
    default: return { fire, wipe }
  }
}
