import type { LiveSettings } from '../admin/settings.js'
import { rollAckFate, rollRefusedItems, type AckFate, type ItemRejectStatus } from '../fire/batches.js'
import type { Random } from '../fire/random.js'

export interface BatchChaosContext {
  settings: LiveSettings
  /** The draws for the inside of request N's batch: apart from its roll's, so they shift nothing there. */
  batchDraws: (request: number) => Random
}

/** What a route knows of the request whose batch it is reading. */
export interface BatchRequest {
  requestNumber: number
  headers: Record<string, string | string[] | undefined>
}

/** Whether the client chose this request's fate with X-Logfire-Chaos: what it does not name does not happen. */
export function chosenByClient (settings: LiveSettings, request: BatchRequest): boolean {
  return settings.override && request.headers['x-logfire-chaos'] !== undefined
}

/** The items of a batch of `count` that the chaos refuses one by one (itemRejectRate). */
export function refusedItems (context: BatchChaosContext, request: BatchRequest, count: number): Array<{ index: number, status: ItemRejectStatus }> {
  if (context.settings.itemRejectRate === 0 || chosenByClient(context.settings, request)) return []
  return rollRefusedItems(context.batchDraws(request.requestNumber), count, context.settings)
}

/** What becomes of a HEC acknowledgement for this request (ackLossRate, ackDelayRate). */
export function ackFate (context: BatchChaosContext, request: BatchRequest): AckFate {
  if (chosenByClient(context.settings, request)) return { kind: 'true' }
  return rollAckFate(context.batchDraws(request.requestNumber), context.settings)
}
