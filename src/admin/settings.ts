import { z } from 'zod'
import type { Config } from '../config.js'
import type { Chain } from '../chain/chain.js'

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

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** The live settings changed: what changed. */
    settings: { settings: Partial<LiveSettings> }
  }
}

/** What a shared store keeps of the settings, checked when read back. */
const sharedSettings = z.strictObject({ fireRate: rate, burnRate: rate, gdpr: z.boolean(), override: z.boolean() })

/**
 * Keeps `settings` the same on every replica: adopts what the replicas
 * already run with (or saves this one's, when it is the first), and applies
 * every change another replica makes.
 */
export async function shareSettings (chain: Chain, settings: LiveSettings): Promise<void> {
  const saved = sharedSettings.safeParse(await chain.loadShared('settings'))
  if (saved.success) Object.assign(settings, saved.data)
  else await chain.saveShared('settings', settings)
  chain.subscribe((event, origin) => {
    if (event.type === 'settings' && origin === 'remote') Object.assign(settings, event.settings)
  })
}

/** A change from PATCH /admin/chaos, on every replica. */
export async function changeSharedSettings (chain: Chain, settings: LiveSettings, patch: Partial<LiveSettings>): Promise<void> {
  // Saved first: a change the other replicas cannot see is not made here either.
  await chain.saveShared('settings', { ...settings, ...patch })
  Object.assign(settings, patch)
  chain.publish({ type: 'settings', settings: patch })
}
