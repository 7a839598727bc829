import type { FastifyBaseLogger } from 'fastify'
import type { LiveSettings } from '../admin/settings.js'
import type { Block } from '../chain/block.js'
import type { ChainSlice, ChainStore } from '../chain/store.js'
import { ChainBurned, withExtras } from '../errors.js'
import { burnChain } from '../fire/burn.js'
import type { ChaosRoll } from '../fire/chaos.js'
import { burnReason } from '../fire/wipe.js'
import { refuseEuMentions } from '../gdpr/guard.js'
import type { ChainEvents } from '../stream/events.js'

export interface AppendContext {
  store: ChainStore
  events: ChainEvents
  clock: () => number
  /** Read on every append, so a runtime change applies at once. */
  settings: LiveSettings
  maxBlocks: number
  /** The chain's byte budget: its JSON text never grows past it. */
  maxChainBytes: number
}

/** What an ingest route knows about the request it is appending for. */
export interface AppendRequest {
  chaos: ChaosRoll
  requestNumber: number
  log: FastifyBaseLogger
}

/**
 * The last steps of the fire, shared by every ingest route: GDPR (451), then
 * the wipe (410), then the append. Each refusal throws before anything is
 * stored, so a request is appended whole or not at all.
 */
export function appendEntries (context: AppendContext, entries: readonly string[], request: AppendRequest): { blocks: Block[], slice: ChainSlice } {
  const { store, events } = context
  if (context.settings.gdpr) {
    refuseEuMentions(entries, request.log, ({ entry, term }) => {
      events.publish({ type: 'gdpr', request: request.requestNumber, entry, term })
    })
  }

  const prepared = store.prepare(entries, context.clock())
  const reason = burnReason({
    wipe: request.chaos.wipe,
    length: store.length,
    incoming: entries.length,
    maxBlocks: context.maxBlocks,
    bytes: store.byteLength,
    incomingBytes: prepared.bytes,
    maxBytes: context.maxChainBytes
  })
  if (reason !== undefined) {
    const burned = burnChain(store, events, reason, request.log)
    throw withExtras(new ChainBurned(reason, burned), { body: { burned, reason } })
  }

  const first = store.length
  const appended = store.commit(prepared)
  events.publish({ type: 'append', count: entries.length, first, epoch: store.epoch, entries })
  return appended
}
