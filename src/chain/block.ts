import { hash } from 'node:crypto'

/** One link of the chain. Key order matters: it is the JSON order naivechain uses. */
export interface Block {
  index: number
  previousHash: string
  timestamp: number
  data: string
  hash: string
}

/**
 * naivechain's hash input: the fields concatenated with no separator. Fixing
 * the types (integer index and timestamp, string data) is what keeps this
 * ambiguous-looking concatenation from colliding in practice.
 */
export function hashBlock (index: number, previousHash: string, timestamp: number, data: string): string {
  // crypto.hash is the one-shot form: half the cost of createHash().update().digest().
  return hash('sha256', String(index) + previousHash + String(timestamp) + data, 'hex')
}

/** naivechain's genesis block, byte for byte, so its validator accepts our chains. */
export const GENESIS: Readonly<Block> = Object.freeze({
  index: 0,
  previousHash: '0',
  timestamp: 1465154705,
  data: 'my genesis block!!',
  hash: '816534932c2b7154836da6afc367695e6337db8a921823784c14378abed4f7d7'
})

/**
 * A block's JSON text, exactly as JSON.stringify writes it (a property
 * test holds it to that). By hand, because the hashes and numbers need no
 * escaping: a third of the cost of stringifying the object, paid for every
 * line appended.
 */
export function blockText (block: Block): string {
  return '{"index":' + block.index + ',"previousHash":"' + block.previousHash + '","timestamp":' + block.timestamp +
    ',"data":' + JSON.stringify(block.data) + ',"hash":"' + block.hash + '"}'
}

export function nextBlock (previous: Block, timestamp: number, data: string): Block {
  const index = previous.index + 1
  return {
    index,
    previousHash: previous.hash,
    timestamp,
    data,
    hash: hashBlock(index, previous.hash, timestamp, data)
  }
}
