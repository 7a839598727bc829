export type BurnReason = 'random' | 'memory budget' | 'admin'

export interface WipeInput {
  /** The request's roll said the chain burns. */
  wipe: boolean
  /** Blocks in the chain now, genesis included. */
  length: number
  /** Blocks the request would add. */
  incoming: number
  maxBlocks: number
  /** The chain's size in bytes now, and what the request would add. */
  bytes: number
  incomingBytes: number
  maxBytes: number
}

/**
 * Why an append burns the chain instead, if it does. The memory budget, in
 * blocks and in bytes, comes first: it is not random, so even
 * X-Logfire-Chaos: off cannot save the chain.
 */
export function burnReason (input: WipeInput): BurnReason | undefined {
  if (input.length + input.incoming > input.maxBlocks) return 'memory budget'
  if (input.bytes + input.incomingBytes > input.maxBytes) return 'memory budget'
  if (input.wipe) return 'random'
  return undefined
}
