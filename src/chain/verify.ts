import { GENESIS, hashBlock, type Block } from './block.js'

export type Verification =
  | { valid: true, length: number, head: string }
  | { valid: false, index: number, reason: string }

const HEX_SHA256 = /^[0-9a-f]{64}$/

/** Checks a whole chain and reports the first block that breaks it. */
export function verifyChain (blocks: readonly unknown[]): Verification {
  if (blocks.length === 0) return { valid: false, index: 0, reason: 'the chain is empty' }

  let previous: Block | undefined
  for (let i = 0; i < blocks.length; i++) {
    const reason = i === 0 ? checkGenesis(blocks[0]) : checkLink(previous as Block, blocks[i], i)
    if (reason !== undefined) return { valid: false, index: i, reason }
    previous = blocks[i] as Block
  }
  return { valid: true, length: blocks.length, head: (previous as Block).hash }
}

function checkGenesis (block: unknown): string | undefined {
  const typeError = checkTypes(block)
  if (typeError !== undefined) return typeError
  const b = block as Block
  for (const key of Object.keys(GENESIS) as Array<keyof Block>) {
    if (b[key] !== GENESIS[key]) return `genesis block differs from naivechain's in ${key}`
  }
  return undefined
}

function checkLink (previous: Block, block: unknown, position: number): string | undefined {
  const typeError = checkTypes(block)
  if (typeError !== undefined) return typeError
  const b = block as Block
  if (b.index !== position) return `index is ${b.index}, expected ${position}`
  if (b.previousHash !== previous.hash) return 'previousHash does not match the hash of the block before'
  if (b.timestamp < previous.timestamp) return 'timestamp is earlier than the block before'
  if (hashBlock(b.index, b.previousHash, b.timestamp, b.data) !== b.hash) return 'hash does not match the block content'
  return undefined
}

/** What is wrong with one block on its own (types, hash), by logfire's rules; undefined when nothing is. */
export function blockProblem (block: unknown): string | undefined {
  const typeError = checkTypes(block)
  if (typeError !== undefined) return typeError
  const b = block as Block
  return hashBlock(b.index, b.previousHash, b.timestamp, b.data) === b.hash ? undefined : 'hash does not match the block content'
}

function checkTypes (block: unknown): string | undefined {
  if (typeof block !== 'object' || block === null) return 'block is not an object'
  const b = block as Record<string, unknown>
  if (!Number.isSafeInteger(b.index)) return 'index is not an integer'
  if (typeof b.previousHash !== 'string') return 'previousHash is not a string'
  if (!Number.isSafeInteger(b.timestamp)) return 'timestamp is not an integer'
  if (typeof b.data !== 'string') return 'data is not a string'
  if (typeof b.hash !== 'string' || !HEX_SHA256.test(b.hash)) return 'hash is not a lower-case hex SHA-256'
  return undefined
}
