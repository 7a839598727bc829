import { createHash, randomBytes } from 'node:crypto'

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number

/** A fresh seed for when LOGFIRE_SEED is not set: short enough to type back in. */
export function randomSeed (): string {
  return randomBytes(4).toString('hex')
}

/**
 * The draws for request N: a pure function of the seed and N, so request N
 * meets the same fate whichever replica numbers it, and in whatever order
 * requests arrive. Any seed string will do ("demo" as well as a number):
 * it is hashed first. Draw k of request N is a hash of (seed, N, k): a few
 * multiplications, no state carried from one request to the next.
 */
export function requestDraws (seed: string): (request: number) => Random {
  const state = createHash('sha256').update(seed, 'utf8').digest()
  const a = state.readUInt32LE(0)
  const b = state.readUInt32LE(4)
  const c = state.readUInt32LE(8)
  return (request) => {
    const key = mix32(mix32((request >>> 0) ^ a) ^ Math.floor(request / 4294967296) ^ b)
    let k = 0
    return () => {
      k += 1
      return (mix32(key ^ mix32(Math.imul(k, 0x9e3779b9) ^ c)) >>> 0) / 4294967296
    }
  }
}

/** MurmurHash3's finaliser: every bit of the input moves every bit of the output. */
function mix32 (value: number): number {
  let h = value | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}
