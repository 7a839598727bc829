import { z } from 'zod'
import type { Config } from '../config.js'

/**
 * The knobs a speaker may turn while logfire runs. One object per app,
 * read on every request, so a change applies to the very next one.
 */
export interface LiveSettings {
  fireRate: number
  burnRate: number
  gdpr: boolean
  /** Whether clients may steer their own fate with X-Logfire-Chaos. */
  override: boolean
}

export function initialSettings (config: Config): LiveSettings {
  return { fireRate: config.fireRate, burnRate: config.burnRate, gdpr: config.gdpr, override: config.chaosOverride }
}

const rate = z.number().min(0).max(1)

/** A change to the settings: any subset. `wipeRate` is the old name of `burnRate`. */
export const settingsPatch = z.strictObject({
  fireRate: rate,
  burnRate: rate,
  wipeRate: rate.describe('The old name of burnRate'),
  gdpr: z.boolean(),
  override: z.boolean()
}).partial().transform(({ wipeRate, ...patch }): Partial<LiveSettings> =>
  wipeRate === undefined || patch.burnRate !== undefined ? patch : { ...patch, burnRate: wipeRate })

/** The settings as the admin routes and GET / show them, with the old name alongside. */
export function settingsView (settings: LiveSettings): LiveSettings & { wipeRate: number } {
  return { ...settings, wipeRate: settings.burnRate }
}

/** The X-Logfire-Settings header: what the fire is set to right now. */
export function settingsHeader (settings: LiveSettings): string {
  return `fire=${settings.fireRate}; burn=${settings.burnRate}; gdpr=${onOff(settings.gdpr)}; override=${onOff(settings.override)}`
}

const onOff = (value: boolean): string => value ? 'on' : 'off'
