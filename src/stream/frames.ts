import type { FeedEvent } from './feed.js'

const FRAME_END = Buffer.from('\n\n')

/**
 * An event as Server-Sent Events text. A block's JSON is sent as stored:
 * JSON text never holds a raw newline, so it is always one data line.
 */
export function sseFrame (event: FeedEvent): Buffer {
  const head = `id: ${event.id}\nevent: ${event.event}\ndata: `
  if (event.event === 'block') return Buffer.concat([Buffer.from(head), event.text, FRAME_END])
  return Buffer.from(`${head}${JSON.stringify(event.data)}\n\n`)
}

/**
 * The frames of the latest blocks, up to a size in bytes, shared by every
 * viewer: with a hundred viewers, a block is framed (and copied out of the
 * store) once, not a hundred times. Other events are rare and framed for
 * each viewer.
 */
export class FrameCache {
  readonly #frames = new Map<string, Buffer>()
  readonly #maxBytes: number
  #bytes = 0

  constructor (maxBytes: number) {
    this.#maxBytes = maxBytes
  }

  of (event: FeedEvent): Buffer {
    if (event.event !== 'block') return sseFrame(event)
    let frame = this.#frames.get(event.id)
    if (frame === undefined) {
      frame = sseFrame(event)
      this.#frames.set(event.id, frame)
      this.#bytes += frame.length
      // Oldest first: a Map keeps insertion order.
      for (const [id, old] of this.#frames) {
        if (this.#bytes <= this.#maxBytes) break
        this.#frames.delete(id)
        this.#bytes -= old.length
      }
    }
    return frame
  }
}
