import { Readable } from 'node:stream'
import type { ChainSlice } from './store.js'

// About 64 KiB a chunk: big enough to keep syscalls few, small enough that
// writing the next one never holds the event loop for long.
const CHUNK_CHARS = 64 * 1024

function * arrayChunks ({ pieces, start, end }: ChainSlice): Generator<string> {
  let chunk = '['
  for (let i = start; i < end; i++) {
    chunk += i === start ? pieces[i] : ',' + pieces[i]
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk
      chunk = ''
    }
  }
  yield chunk + ']'
}

/**
 * A slice of the chain as a JSON array, produced a chunk at a time as the
 * socket drains. A 29 MB chain is never one string in memory, and POSTs keep
 * being served between chunks instead of waiting behind one huge write.
 */
export function chainJsonStream (slice: ChainSlice): Readable {
  return Readable.from(arrayChunks(slice), { objectMode: false, highWaterMark: CHUNK_CHARS })
}
