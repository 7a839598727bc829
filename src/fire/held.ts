import type { Socket } from 'node:net'

/**
 * The connections faults are holding open (delays, slow transfers, hangs),
 * bounded so that a flood of them cannot hold every socket the server has,
 * and ended all at once when the server closes. One per app.
 */
export class HeldConnections {
  readonly #held = new Map<AbortController, Socket>()
  readonly #max: number
  #overflows = 0

  constructor (max: number) {
    this.#max = max
  }

  get size (): number {
    return this.#held.size
  }

  /** How many holds were refused for the limit, ever. */
  get overflows (): number {
    return this.#overflows
  }

  /**
   * Holds `socket` until `release` is called; undefined when the limit is
   * reached. The signal aborts when the server ends every held connection,
   * or when the socket closes: waits on it stop then.
   */
  hold (socket: Socket): { signal: AbortSignal, release: () => void } | undefined {
    if (this.#held.size >= this.#max) {
      this.#overflows += 1
      return undefined
    }
    const controller = new AbortController()
    this.#held.set(controller, socket)
    const release = (): void => {
      socket.removeListener('close', abort)
      this.#held.delete(controller)
    }
    const abort = (): void => {
      release()
      controller.abort()
    }
    socket.once('close', abort)
    return { signal: controller.signal, release }
  }

  /** At shutdown: every held connection is cut, and every wait on one stops. */
  endAll (): void {
    for (const [controller, socket] of [...this.#held]) {
      this.#held.delete(controller)
      controller.abort()
      socket.destroy()
    }
  }
}
