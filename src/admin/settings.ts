import { z } from 'zod'
import type { Config } from '../config.js'
import type { Chain } from '../chain/chain.js'
import { ITEM_REJECT_STATUSES, type BatchSettings } from '../fire/batches.js'
import type { ChaosRates } from '../fire/chaos.js'
import { FAULT_NAMES, FAULT_RATES } from '../fire/faults.js'

/**
 * The knobs a speaker or a test may turn while logfire runs. One object per
 * app, read on every request, so a change applies to the very next one.
 */
export interface LiveSettings extends ChaosRates, BatchSettings {
  gdpr: boolean
  /** Whether clients may steer their own fate with X-Logfire-Chaos. */
  override: boolean
  /** A batch of more entries is refused with a 413; 0 takes any. */
  maxEntriesPerRequest: number
}

export function initialSettings (config: Config): LiveSettings {
  return {
    fireRate: config.fireRate,
    burnRate: config.burnRate,
    gdpr: config.gdpr,
    override: config.chaosOverride,
    maxEntriesPerRequest: config.maxEntriesPerRequest,
    ...config.faults,
    statusCodes: [...config.faults.statusCodes],
    ...config.batches,
    itemRejectStatuses: [...config.batches.itemRejectStatuses]
  }
}

const rate = z.number().min(0).max(1)
const ms = z.number().int().min(0).max(3_600_000)

/** Every setting, as the shared store keeps them and PATCH /admin/chaos takes them. */
const SETTINGS = {
  fireRate: rate.describe('Share of requests answered 503 lp0 on fire'),
  burnRate: rate.describe('Share of appends that burn the chain (410)'),
  gdpr: z.boolean().describe('Whether lines about the EU, the UK or Europe are refused (451)'),
  override: z.boolean().describe('Whether X-Logfire-Chaos is honoured'),
  maxEntriesPerRequest: z.number().int().min(0).max(100_000_000).describe('A batch of more entries is refused with 413 LOGFIRE_TOO_MANY_ENTRIES; 0 takes any'),
  delayRate: rate.describe('Share of requests answered late'),
  delayMs: ms.describe('The delay: the middle of the range (uniform) or the median (lognormal)'),
  delayJitterMs: ms.describe('uniform: delays spread evenly over delayMs ± this; 0 is a fixed delay'),
  delayDistribution: z.enum(['uniform', 'lognormal']).describe('How delays are spread'),
  delaySigma: z.number().min(0).max(5).describe('lognormal: the spread of the logarithm of the delay'),
  slowReadRate: rate.describe('Share of requests whose body is read slowly'),
  slowReadBytesPerSecond: z.number().int().min(1).max(2 ** 40).describe('How fast a slow read reads'),
  slowResponseRate: rate.describe('Share of answers trickled out'),
  slowResponseMs: ms.describe('How long a trickled answer takes'),
  hangRate: rate.describe('Share of requests that are read and never answered'),
  hangMs: z.number().int().min(1).max(3_600_000).describe('When a hung connection is closed, unless the idle timeout comes first'),
  resetRate: rate.describe('Share of requests reset (TCP RST) before their body is read: nothing stored'),
  resetAfterAppendRate: rate.describe('Share of requests stored, then reset instead of answered: a retry duplicates them'),
  closeRate: rate.describe('Share of requests read, then closed without an answer: nothing stored'),
  garbageRate: rate.describe('Share of requests stored, then answered with a 200 and a broken body'),
  statusRate: rate.describe('Share of requests answered with one of statusCodes: nothing stored'),
  statusCodes: z.array(z.number().int().min(400).max(599)).min(1).max(32).describe('The statuses statusRate picks from, evenly'),
  streamResetRate: rate.describe('Share of stream messages met by a RST before they are stored: they and everything in flight after them are lost'),
  streamResetAfterAppendRate: rate.describe('Share of stream messages stored, then met by a RST'),
  streamCloseRate: rate.describe('Share of stream messages met by a FIN before they are stored: the shipper\'s next write is reset'),
  streamStallRate: rate.describe('Share of stream messages before which reading stops for streamStallMs, then goes on'),
  streamStallResetRate: rate.describe('Share of stream messages before which reading stops for streamStallMs, then a RST: everything in flight is lost'),
  streamStallMs: ms.describe('How long a stream stall lasts'),
  streamSlowReadRate: rate.describe('Share of stream messages from which their connection is read slowly'),
  streamSlowReadBytesPerSecond: z.number().int().min(1).max(2 ** 40).describe('How fast a slowed stream connection is read'),
  streamSlowReadMs: ms.describe('How long a stream connection is read slowly'),
  streamHangRate: rate.describe('Share of stream messages before which reading stops until hangMs, then the connection ends'),
  streamNakRate: rate.describe('Share of stream messages refused by a fault: RELP answers rsp 500 and stores nothing; a plain stream drops them'),
  streamAckLossRate: rate.describe('Share of stream messages stored and never acknowledged (RELP: no rsp for that txnr; Forward: no ack)'),
  streamAckWrongRate: rate.describe('Share of Forward messages stored and acknowledged with another chunk id'),
  itemRejectRate: rate.describe('Share of the items of an accepted batch refused one by one: Elasticsearch _bulk items get an error status, OTLP records a partialSuccess; the rest are stored'),
  itemRejectStatuses: z.array(z.union(ITEM_REJECT_STATUSES.map((status) => z.literal(status)))).min(1).max(8).describe(`The statuses a refused _bulk item gets, picked evenly: ${ITEM_REJECT_STATUSES.join(', ')}`),
  ackLossRate: rate.describe('Share of Splunk HEC ack-mode requests answered 200 with an ackId, then never stored: the ack stays false'),
  ackDelayRate: rate.describe('Share of Splunk HEC ack-mode requests stored at once, but acknowledged only after ackDelayMs'),
  ackDelayMs: ms.describe('How late a late HEC acknowledgement turns true')
}

/** A change to the settings: any subset. `wipeRate` is the old name of `burnRate`. */
export const settingsPatch = z.strictObject({
  ...SETTINGS,
  wipeRate: rate.describe('The old name of burnRate')
}).partial().transform(({ wipeRate, ...patch }): Partial<LiveSettings> =>
  wipeRate === undefined || patch.burnRate !== undefined ? patch : { ...patch, burnRate: wipeRate })

/** The settings as GET and PATCH /admin/chaos answer them. */
export const settingsSchema = z.object({ ...SETTINGS, wipeRate: rate.describe('The old name of burnRate, the same value') })

/** The settings as the admin routes and GET / show them, with the old name alongside. */
export function settingsView (settings: LiveSettings): LiveSettings & { wipeRate: number } {
  return { ...settings, wipeRate: settings.burnRate }
}

/**
 * The X-Logfire-Settings header: what the chaos is set to right now. The
 * faults and the entries limit are named only when they are on.
 */
export function settingsHeader (settings: LiveSettings): string {
  let header = `fire=${settings.fireRate}; burn=${settings.burnRate}; gdpr=${onOff(settings.gdpr)}; override=${onOff(settings.override)}`
  for (const name of FAULT_NAMES) {
    const rate = settings[FAULT_RATES[name]]
    if (rate > 0) header += `; ${name}=${rate}`
  }
  for (const [name, value] of STREAM_RATES) {
    if (settings[value] > 0) header += `; ${name}=${settings[value]}`
  }
  if (settings.itemRejectRate > 0) header += `; item-reject=${settings.itemRejectRate}`
  if (settings.ackLossRate > 0) header += `; ack-loss=${settings.ackLossRate}`
  if (settings.ackDelayRate > 0) header += `; ack-delay=${settings.ackDelayRate}`
  if (settings.maxEntriesPerRequest > 0) header += `; max-entries=${settings.maxEntriesPerRequest}`
  return header
}

const STREAM_RATES = [
  ['stream-reset', 'streamResetRate'],
  ['stream-reset-after-append', 'streamResetAfterAppendRate'],
  ['stream-close', 'streamCloseRate'],
  ['stream-stall', 'streamStallRate'],
  ['stream-stall-reset', 'streamStallResetRate'],
  ['stream-slow-read', 'streamSlowReadRate'],
  ['stream-hang', 'streamHangRate'],
  ['stream-nak', 'streamNakRate'],
  ['stream-ack-loss', 'streamAckLossRate'],
  ['stream-ack-wrong', 'streamAckWrongRate']
] as const

const onOff = (value: boolean): string => value ? 'on' : 'off'

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** The live settings changed: what changed. */
    settings: { settings: Partial<LiveSettings> }
  }
}

/** What a shared store keeps of the settings, checked when read back. */
const sharedSettings = z.strictObject(SETTINGS)

/**
 * Keeps `settings` the same on every replica: adopts what the replicas
 * already run with (or saves this one's, when it is the first), and applies
 * every change another replica makes.
 */
export async function shareSettings (chain: Chain, settings: LiveSettings): Promise<void> {
  // Alone with its chain, a process has nobody to share with.
  if (!chain.replicated) return
  const saved = sharedSettings.safeParse(await chain.shared.load('settings'))
  if (saved.success) Object.assign(settings, saved.data)
  else await chain.shared.save('settings', settings)
  chain.subscribe((event, origin) => {
    if (event.type === 'settings' && origin === 'remote') Object.assign(settings, event.settings)
  })
}

/** A change from PATCH /admin/chaos, on every replica. */
export async function changeSharedSettings (chain: Chain, settings: LiveSettings, patch: Partial<LiveSettings>): Promise<void> {
  // Saved first: a change the other replicas cannot see is not made here either.
  await chain.shared.save('settings', { ...settings, ...patch })
  Object.assign(settings, patch)
  chain.publish({ type: 'settings', settings: patch })
}
