import { createHash, randomBytes } from 'node:crypto'

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number

/** A fresh seed for when LOGFIRE_SEED is not set: short enough to type back in. */
export function randomSeed (): string {
  return randomBytes(4).toString('hex')
}

/**
 * sfc32, seeded from the SHA-256 of any seed string, so "demo" is as good a
 * seed as a number. Not cryptographic; it only has to be replayable.
 */
export function seededRandom (seed: string): Random {
  const state = createHash('sha256').update(seed, 'utf8').digest()
  let a = state.readUInt32LE(0)
  let b = state.readUInt32LE(4)
  let c = state.readUInt32LE(8)
  let d = state.readUInt32LE(12)
  return () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}
