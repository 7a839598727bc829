import type { Random } from './random.js'

/**
 * The chaos inside an accepted batch, after the body is read: single items
 * refused while the rest are stored (Elasticsearch `_bulk` items, OTLP log
 * records), and Splunk HEC acknowledgements that lie. Each is drawn from the
 * request's batch draws, seeded like the rest, so a seed replays it.
 */
export interface BatchSettings {
  /** Share of a batch's items refused one by one: `_bulk` items get an error status, OTLP records a partialSuccess. */
  itemRejectRate: number
  /** The statuses a refused `_bulk` item gets, picked evenly. */
  itemRejectStatuses: ItemRejectStatus[]
  /** Share of HEC ack-mode requests answered 200 with an ackId, then never stored: the ack stays false. */
  ackLossRate: number
  /** Share of HEC ack-mode requests stored at once but acknowledged only after ackDelayMs. */
  ackDelayRate: number
  ackDelayMs: number
}

/** The statuses Elasticsearch gives a single refused `_bulk` item, with its error type. */
export const ITEM_REJECT_STATUSES = [400, 409, 429, 500, 503] as const
export type ItemRejectStatus = typeof ITEM_REJECT_STATUSES[number]

export const NO_BATCH_CHAOS: BatchSettings = {
  itemRejectRate: 0,
  itemRejectStatuses: [429],
  ackLossRate: 0,
  ackDelayRate: 0,
  ackDelayMs: 30_000
}

/** A refused item: its place in the batch, and the status it gets (200 for an OTLP record: refused inside a success). */
export interface RefusedItem { index: number, status: number }

/**
 * The items of a batch of `count` refused one by one: one draw per item, in
 * order, then one per refused item for its status. No draw at all while the
 * rate is 0.
 */
export function rollRefusedItems (random: Random, count: number, settings: Pick<BatchSettings, 'itemRejectRate' | 'itemRejectStatuses'>): Array<{ index: number, status: ItemRejectStatus }> {
  const rate = settings.itemRejectRate
  if (rate === 0) return []
  const refused: Array<{ index: number, status: ItemRejectStatus }> = []
  for (let index = 0; index < count; index++) {
    if (random() < rate) refused.push({ index, status: 429 })
  }
  const statuses = settings.itemRejectStatuses
  for (const item of refused) item.status = statuses[Math.floor(random() * statuses.length)] as ItemRejectStatus
  return refused
}

/** What happens to one HEC acknowledgement. */
export type AckFate = { kind: 'true' } | { kind: 'lost' } | { kind: 'late', ms: number }

export function rollAckFate (random: Random, settings: Pick<BatchSettings, 'ackLossRate' | 'ackDelayRate' | 'ackDelayMs'>): AckFate {
  if (settings.ackLossRate === 0 && settings.ackDelayRate === 0) return { kind: 'true' }
  if (random() < settings.ackLossRate) return { kind: 'lost' }
  if (random() < settings.ackDelayRate) return { kind: 'late', ms: settings.ackDelayMs }
  return { kind: 'true' }
}
