import type { FramingError } from './framing.js'

/*
 * Where one MessagePack value ends in a byte stream, found without decoding
 * it: a stream of Forward messages has no other framing. Nothing is
 * allocated for what a header claims: a map of 2^32 entries is a count to
 * check against the bytes there can be, not an array to build.
 */

/** Nesting deeper than this is refused: records are not that deep. */
export const MAX_DEPTH = 64

/**
 * The end offset of the value starting at `start`; undefined while it is
 * incomplete; an error once it cannot be a value within `maxBytes` bytes or
 * `MAX_DEPTH` levels.
 */
export function msgpackExtent (buffer: Uint8Array, start: number, maxBytes: number): number | FramingError | undefined {
  const limit = start + maxBytes
  // Items still to read at each open level.
  const pending: number[] = [1]
  let at = start
  while (pending.length > 0) {
    if (pending[pending.length - 1] === 0) {
      pending.pop()
      continue
    }
    pending[pending.length - 1]! -= 1
    if (at >= buffer.length) return at >= limit ? TOO_LONG : undefined
    const byte = buffer[at] as number
    const head = header(byte)
    if (head === undefined) return { problem: 'bad-frame' }
    let length = head.fixed
    let items = head.items
    if (head.sizeBytes > 0) {
      if (at + 1 + head.sizeBytes > buffer.length) return at + 1 + head.sizeBytes > limit ? TOO_LONG : undefined
      const size = readSize(buffer, at + 1, head.sizeBytes as 1 | 2 | 4)
      if (head.counts === 'bytes') length += size
      else items = head.counts === 'pairs' ? size * 2 : size
    }
    at += 1 + head.sizeBytes + length
    if (at > limit) return TOO_LONG
    if (items > 0) {
      // Every item takes a byte at least: more than there can be bytes is a lie.
      if (items > limit - at) return TOO_LONG
      if (pending.length >= MAX_DEPTH) return { problem: 'bad-frame' }
      pending.push(items)
    }
  }
  return at > buffer.length ? (at > limit ? TOO_LONG : undefined) : at
}

const TOO_LONG: FramingError = { problem: 'frame-too-long', bytes: Infinity }

interface Header {
  /** Bytes after the type byte and the size, known from the type alone. */
  fixed: number
  /** Items of a fixarray or fixmap (pairs counted twice). */
  items: number
  /** Bytes of the size field that follows the type byte. */
  sizeBytes: 0 | 1 | 2 | 4
  /** What the size counts: payload bytes, array items, or map pairs. */
  counts: 'bytes' | 'items' | 'pairs'
}

const plain = (fixed: number): Header => ({ fixed, items: 0, sizeBytes: 0, counts: 'bytes' })
const sized = (sizeBytes: 1 | 2 | 4, counts: Header['counts'], fixed = 0): Header => ({ fixed, items: 0, sizeBytes, counts })

function header (byte: number): Header | undefined {
  if (byte <= 0x7f || byte >= 0xe0) return plain(0)
  if (byte <= 0x8f) return { fixed: 0, items: (byte & 0x0f) * 2, sizeBytes: 0, counts: 'pairs' }
  if (byte <= 0x9f) return { fixed: 0, items: byte & 0x0f, sizeBytes: 0, counts: 'items' }
  if (byte <= 0xbf) return plain(byte & 0x1f)
  switch (byte) {
    case 0xc0: case 0xc2: case 0xc3: return plain(0)
    case 0xc4: return sized(1, 'bytes')
    case 0xc5: return sized(2, 'bytes')
    case 0xc6: return sized(4, 'bytes')
    case 0xc7: return sized(1, 'bytes', 1)
    case 0xc8: return sized(2, 'bytes', 1)
    case 0xc9: return sized(4, 'bytes', 1)
    case 0xca: return plain(4)
    case 0xcb: return plain(8)
    case 0xcc: case 0xd0: return plain(1)
    case 0xcd: case 0xd1: return plain(2)
    case 0xce: case 0xd2: return plain(4)
    case 0xcf: case 0xd3: return plain(8)
    case 0xd4: return plain(2)
    case 0xd5: return plain(3)
    case 0xd6: return plain(5)
    case 0xd7: return plain(9)
    case 0xd8: return plain(17)
    case 0xd9: return sized(1, 'bytes')
    case 0xda: return sized(2, 'bytes')
    case 0xdb: return sized(4, 'bytes')
    case 0xdc: return sized(2, 'items')
    case 0xdd: return sized(4, 'items')
    case 0xde: return sized(2, 'pairs')
    case 0xdf: return sized(4, 'pairs')
  }
  // 0xc1 is never used.
  return undefined
}

function readSize (buffer: Uint8Array, at: number, bytes: 1 | 2 | 4): number {
  let size = 0
  for (let i = 0; i < bytes; i++) size = size * 256 + (buffer[at + i] as number)
  return size
}
