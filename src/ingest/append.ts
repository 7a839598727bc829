import type { FastifyBaseLogger } from 'fastify'
import type { Block } from '../chain/block.js'
import type { ChainStore } from '../chain/store.js'
import { ChainBurned, withExtras } from '../errors.js'
import type { ChaosRoll } from '../fire/chaos.js'
import { burnReason } from '../fire/wipe.js'
import { refuseEuMentions } from '../gdpr/guard.js'

export interface AppendContext {
  store: ChainStore
  clock: () => number
  /** Read on every append, so a runtime change applies at once. */
  settings: { gdpr: boolean, maxBlocks: number }
}

/**
 * The last steps of the fire, shared by every ingest route: GDPR (451), then
 * the wipe (410), then the append. Each refusal throws before anything is
 * stored, so a request is appended whole or not at all.
 */
export function appendEntries (context: AppendContext, entries: readonly string[], roll: ChaosRoll, log: FastifyBaseLogger): Block[] {
  if (context.settings.gdpr) refuseEuMentions(entries, log)

  const { store } = context
  const reason = burnReason({ wipe: roll.wipe, length: store.length, incoming: entries.length, maxBlocks: context.settings.maxBlocks })
  if (reason !== undefined) {
    const burned = store.burn()
    log.warn({ burn: { reason, burned } }, 'chain burned')
    throw withExtras(new ChainBurned(reason, burned), { body: { burned, reason } })
  }

  return store.append(entries, context.clock())
}
