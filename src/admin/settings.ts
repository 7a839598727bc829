import { z } from 'zod'
import type { Config } from '../config.js'

/**
 * The knobs a speaker may turn while logfire runs. One object per app,
 * read on every request, so a change applies to the very next one.
 */
export interface LiveSettings {
  fireRate: number
  wipeRate: number
  gdpr: boolean
  /** Whether clients may steer their own fate with X-Logfire-Chaos. */
  override: boolean
}

export function initialSettings (config: Config): LiveSettings {
  return { fireRate: config.fireRate, wipeRate: config.wipeRate, gdpr: config.gdpr, override: config.chaosOverride }
}

export const settingsPatch = z.strictObject({
  fireRate: z.number().min(0).max(1),
  wipeRate: z.number().min(0).max(1),
  gdpr: z.boolean(),
  override: z.boolean()
}).partial()

/** The X-Logfire-Settings header: what the fire is set to right now. */
export function settingsHeader (settings: LiveSettings): string {
  return `fire=${settings.fireRate}; wipe=${settings.wipeRate}; gdpr=${onOff(settings.gdpr)}; override=${onOff(settings.override)}`
}

const onOff = (value: boolean): string => value ? 'on' : 'off'
