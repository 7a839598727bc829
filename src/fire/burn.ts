import type { FastifyBaseLogger } from 'fastify'
import type { ChainStore } from '../chain/store.js'
import type { ChainEvents } from '../stream/events.js'
import type { BurnReason } from './wipe.js'

/** Burns the chain down to genesis, tells the log and the viewers why, and returns the blocks lost. */
export function burnChain (store: ChainStore, events: ChainEvents, reason: BurnReason, log: FastifyBaseLogger): number {
  const burned = store.burn()
  log.warn({ burn: { reason, burned } }, 'chain burned')
  events.publish({ type: 'burn', epoch: store.epoch, burned, reason })
  return burned
}
