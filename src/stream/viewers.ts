import { FrameCache } from './frames.js'

const FRAME_CACHE_BYTES = 1024 * 1024

/** An open event stream, as its fire's viewers know it. */
export interface Viewer { close: () => void }

/** The viewers of one fire's event stream, and the frames they share. */
export class Viewers {
  /** Every viewer is sent the same blocks: each frame is built once. */
  readonly frames = new FrameCache(FRAME_CACHE_BYTES)
  readonly #open = new Set<Viewer>()

  get count (): number { return this.#open.size }

  add (viewer: Viewer): void { this.#open.add(viewer) }
  delete (viewer: Viewer): void { this.#open.delete(viewer) }

  /** Open streams end when the app closes, so SIGTERM is not held up by viewers. */
  closeAll (): void {
    for (const viewer of this.#open) viewer.close()
  }
}
