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

/**
 * The draws for request N: a pure function of the seed and N, so request N
 * meets the same fate whichever replica numbers it, and in whatever order
 * requests arrive. sfc32 again, its state the seed's hash mixed with N, and
 * run for a few rounds so that neighbouring Ns share nothing.
 */
export function requestDraws (seed: string): (request: number) => Random {
  const state = createHash('sha256').update(seed, 'utf8').digest()
  const a0 = state.readUInt32LE(0)
  const b0 = state.readUInt32LE(4)
  const c0 = state.readUInt32LE(8)
  return (request) => {
    let a = a0 ^ mix32(request >>> 0)
    let b = b0 ^ mix32(Math.floor(request / 4294967296) ^ 0x9e3779b9)
    let c = c0
    let d = 1
    const next = () => {
      const t = (((a + b) | 0) + d) | 0
      d = (d + 1) | 0
      a = b ^ (b >>> 9)
      b = (c + (c << 3)) | 0
      c = (c << 21) | (c >>> 11)
      c = (c + t) | 0
      return (t >>> 0) / 4294967296
    }
    for (let i = 0; i < 12; i++) next()
    return next
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
