import type { BurnReason } from './events.js'

/** A chain's limits: past either, an append burns it instead. */
export interface ChainLimits {
  /** Blocks, genesis included. */
  maxBlocks: number
  /** The chain's JSON text in bytes. */
  maxBytes: number
}

export interface AppendCheck {
  /** The request's roll said the chain burns. */
  burnRolled: boolean
  /** Blocks in the chain now, genesis included, and what the request would add. */
  length: number
  incoming: number
  /** The chain's size in bytes now, and what the request would add. */
  bytes: number
  incomingBytes: number
}

/**
 * Why an append burns the chain instead, if it does. The memory budget, in
 * blocks and in bytes, comes first: it is not random, so even
 * X-Logfire-Chaos: off cannot save the chain.
 */
export function burnReason (limits: ChainLimits, check: AppendCheck): BurnReason | undefined {
  if (check.length + check.incoming > limits.maxBlocks) return 'memory budget'
  if (check.bytes + check.incomingBytes > limits.maxBytes) return 'memory budget'
  if (check.burnRolled) return 'random'
  return undefined
}
