import { Readable } from 'node:stream'
import type { ChainSlice } from './store.js'

// Up to this size a slice goes out in one write: copying it is cheaper than
// streaming it. Beyond, it goes out 64 KiB at a time.
const ONE_WRITE_BYTES = 1024 * 1024
const CHUNK_BYTES = 64 * 1024

const OPEN = Buffer.from('[')
const CLOSE = Buffer.from(']')

/** The byte length of a slice written as a JSON array. */
export function jsonArrayLength (slice: ChainSlice): number {
  return slice.bytes.length + 2
}

/**
 * A slice of the chain as a JSON array. A big one is written a chunk at a
 * time, each chunk only when the socket has drained the one before and after
 * a turn of the event loop (setImmediate), so appends keep being served while
 * a 29 MB chain goes out, and nothing is copied: the chunks are views of the
 * store's own buffer.
 */
export function chainJson (slice: ChainSlice): Buffer | Readable {
  const { bytes } = slice
  if (bytes.length <= ONE_WRITE_BYTES) return Buffer.concat([OPEN, bytes, CLOSE])

  let offset = 0
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    read () {
      setImmediate(() => {
        if (offset === 0) this.push(OPEN)
        const end = Math.min(offset + CHUNK_BYTES, bytes.length)
        this.push(bytes.subarray(offset, end))
        offset = end
        if (offset === bytes.length) {
          this.push(CLOSE)
          this.push(null)
        }
      })
    }
  })
}
