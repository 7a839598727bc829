import type { Block } from '../chain/block.js'
import { blockProblem } from '../chain/verify.js'

/*
 * naivechain's peer-to-peer messages, exactly: {"type": n, "data": ...} over
 * WebSocket. Type 2's `data` is a string holding the JSON of an array of
 * blocks. See ../shared/reference/naivechain.md.
 */

export const QUERY_LATEST = 0
export const QUERY_ALL = 1
export const RESPONSE_BLOCKCHAIN = 2

export type PeerMessage =
  | { type: typeof QUERY_LATEST }
  | { type: typeof QUERY_ALL }
  | { type: typeof RESPONSE_BLOCKCHAIN, blocks: Block[] }

/** Why a message from a peer was refused: the `reason` label of logfire_peer_refused_total. */
export type RefusalReason = 'malformed' | 'unknown-type' | 'bad-block' | 'bad-chain' | 'too-large' | 'flood'

export interface Refusal { refused: RefusalReason, detail: string }

/**
 * A peer's message, checked: anything else is a refusal with its reason,
 * never an exception. Blocks in a type 2 are checked one by one with
 * logfire's rules (string data, integer timestamps, the hash), so a block
 * naivechain itself mined (a float timestamp) is refused, not stored.
 */
export function readMessage (text: string): PeerMessage | Refusal {
  let message: unknown
  try {
    message = JSON.parse(text)
  } catch {
    return { refused: 'malformed', detail: 'not JSON' }
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return { refused: 'malformed', detail: 'not an object' }
  const { type, data } = message as { type?: unknown, data?: unknown }
  if (type === QUERY_LATEST || type === QUERY_ALL) return { type }
  if (type !== RESPONSE_BLOCKCHAIN) return { refused: 'unknown-type', detail: `type ${JSON.stringify(type)?.slice(0, 20)}` }
  if (typeof data !== 'string') return { refused: 'malformed', detail: 'data is not a string' }
  let blocks: unknown
  try {
    blocks = JSON.parse(data)
  } catch {
    return { refused: 'malformed', detail: 'data is not JSON' }
  }
  if (!Array.isArray(blocks) || blocks.length === 0) return { refused: 'malformed', detail: 'data is not a list of blocks' }
  for (const block of blocks) {
    const problem = blockProblem(block)
    if (problem !== undefined) return { refused: 'bad-block', detail: problem }
  }
  return { type, blocks: (blocks as Block[]).sort((a, b) => a.index - b.index) }
}

export const queryLatest = (): string => `{"type":${QUERY_LATEST}}`
export const queryAll = (): string => `{"type":${QUERY_ALL}}`

/** A type 2 holding these blocks' JSON texts, as naivechain sends it: JSON inside JSON. */
export function blockchainResponse (blockTexts: readonly string[]): string {
  return JSON.stringify({ type: RESPONSE_BLOCKCHAIN, data: `[${blockTexts.join(',')}]` })
}
