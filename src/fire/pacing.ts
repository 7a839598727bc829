import { setTimeout as sleep } from 'node:timers/promises'

/*
 * The slow faults, as async generators over a body's chunks. Nothing is
 * buffered beyond the chunk in hand: while a generator waits it pulls
 * nothing, so a slow read stops reading the socket and TCP pushes back on
 * the client.
 */

/** Waits until `at` (performance.now() time); rejects when `signal` aborts. */
async function until (at: number, signal: AbortSignal): Promise<void> {
  const wait = at - performance.now()
  if (wait > 0) await sleep(wait, undefined, { signal })
}

/**
 * The request body at `bytesPerSecond`, in pieces of a tenth of a second,
 * for at most `forMs`: after that, at full speed.
 */
export async function * throttled (body: AsyncIterable<Buffer>, bytesPerSecond: number, forMs: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  const start = performance.now()
  const pieceBytes = Math.max(1, Math.floor(bytesPerSecond / 10))
  let read = 0
  for await (const chunk of body) {
    for (let at = 0; at < chunk.length; at += pieceBytes) {
      const due = start + (1000 * read) / bytesPerSecond
      if (due - start < forMs) await until(due, signal)
      const piece = chunk.subarray(at, at + pieceBytes)
      read += piece.length
      yield piece
    }
  }
}

/**
 * A response body spread evenly over `ms`, in about `pieces` pieces: the
 * first at once, the end no sooner than `ms`. With `totalBytes` unknown (0),
 * the chunks pass as they come and only the end waits.
 */
export async function * trickled (body: Iterable<Buffer> | AsyncIterable<Buffer>, totalBytes: number, ms: number, signal: AbortSignal, pieces = 10): AsyncGenerator<Buffer> {
  const start = performance.now()
  const pieceBytes = totalBytes > 0 ? Math.max(1, Math.ceil(totalBytes / pieces)) : Infinity
  let sent = 0
  for await (const chunk of body) {
    for (let at = 0; at < chunk.length; at += pieceBytes) {
      if (totalBytes > 0) await until(start + (ms * sent) / totalBytes, signal)
      const piece = chunk.subarray(at, at + pieceBytes)
      sent += piece.length
      yield piece
    }
  }
  await until(start + ms, signal)
}
