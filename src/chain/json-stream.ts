import { Readable } from 'node:stream'
import type { ChainRead, ChainSlice } from './store.js'

// Up to this size a slice goes out in one write: copying it is cheaper than
// streaming it. Beyond, it goes out 64 KiB at a time.
const ONE_WRITE_BYTES = 1024 * 1024
const CHUNK_BYTES = 64 * 1024

const OPEN = Buffer.from('[')
const CLOSE = Buffer.from(']')

/** The byte length of a slice written as a JSON array. */
export function jsonArrayLength (slice: ChainSlice): number {
  return slice.byteLength + 2
}

function * chunked (parts: Buffer[]): Generator<Buffer> {
  yield OPEN
  for (const part of parts) {
    for (let offset = 0; offset < part.length; offset += CHUNK_BYTES) {
      yield part.subarray(offset, offset + CHUNK_BYTES)
    }
  }
  yield CLOSE
}

/**
 * A slice of the chain as a JSON array. A big one is written a chunk at a
 * time, each chunk only when the socket has drained the one before and after
 * a turn of the event loop (setImmediate), so appends keep being served while
 * a 29 MB chain goes out, and nothing is copied: the chunks are views of the
 * store's own buffer, held until the stream ends or is destroyed.
 */
export function chainJson (read: ChainRead): Buffer | Readable {
  if (read.byteLength <= ONE_WRITE_BYTES) {
    const copy = Buffer.concat([OPEN, ...read.parts, CLOSE])
    read.release()
    return copy
  }

  const chunks = chunked(read.parts)
  let next = chunks.next()
  return new Readable({
    highWaterMark: CHUNK_BYTES,
    destroy (error, callback) {
      read.release()
      callback(error)
    },
    read () {
      setImmediate(() => {
        if (next.done === true) {
          this.push(null)
          return
        }
        this.push(next.value)
        next = chunks.next()
      })
    }
  })
}
