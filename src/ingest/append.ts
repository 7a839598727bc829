import type { FastifyBaseLogger } from 'fastify'
import type { LiveSettings } from '../admin/settings.js'
import type { Block } from '../chain/block.js'
import type { Chain } from '../chain/chain.js'
import type { ChainSlice } from '../chain/store.js'
import { ChainBurned, withExtras } from '../errors.js'
import type { ChaosRoll } from '../fire/chaos.js'
import { refuseEuMentions } from '../gdpr/guard.js'

export interface AppendContext {
  chain: Chain
  clock: () => number
  /** Read on every append, so a runtime change applies at once. */
  settings: LiveSettings
}

/** What an ingest route knows about the request it is appending for. */
export interface AppendRequest {
  chaos: ChaosRoll
  requestNumber: number
  log: FastifyBaseLogger
}

/**
 * The last steps of the fire, shared by every ingest route: GDPR (451), then
 * the burn (410), then the append. Each refusal throws before anything is
 * stored, so a request is appended whole or not at all.
 */
export async function appendEntries (context: AppendContext, entries: readonly string[], request: AppendRequest): Promise<{ blocks: Block[], slice: ChainSlice, length: number }> {
  const { chain } = context
  if (context.settings.gdpr) {
    refuseEuMentions(entries, request.log, ({ entry, term }) => {
      chain.publish({ type: 'gdpr', request: request.requestNumber, entry, term })
    })
  }

  const outcome = await chain.append(entries, context.clock(), request.chaos.burn)
  if (!outcome.appended) {
    const { burned, reason } = outcome
    request.log.warn({ burn: { reason, burned } }, 'chain burned')
    throw withExtras(new ChainBurned(reason, burned), { body: { burned, reason } })
  }
  return outcome
}
