import type { Socket } from 'node:net'

/**
 * The connections faults are holding open (delays, slow transfers, hangs),
 * bounded so that a flood of them cannot hold every socket the server has,
 * and ended all at once when the server closes. One per app; each fire may
 * hold its share of them, so that one fire's hangs leave the others theirs.
 */
export class HeldConnections {
  readonly #held = new Map<AbortController, Socket>()
  readonly #byFire = new Map<string, number>()
  readonly #max: number
  readonly #maxPerFire: number
  #overflows = 0

  constructor (max: number, maxPerFire = max) {
    this.#max = max
    this.#maxPerFire = maxPerFire
  }

  get size (): number {
    return this.#held.size
  }

  /** How many holds were refused for the limit, ever. */
  get overflows (): number {
    return this.#overflows
  }

  /**
   * Holds `socket` for a fire until `release` is called; undefined when the
   * limit, or the fire's share, is reached. The signal aborts when the
   * server ends every held connection, or when the socket closes: waits on
   * it stop then.
   */
  hold (socket: Socket, fire: string): { signal: AbortSignal, release: () => void } | undefined {
    const ofFire = this.#byFire.get(fire) ?? 0
    if (this.#held.size >= this.#max || ofFire >= this.#maxPerFire) {
      this.#overflows += 1
      return undefined
    }
    const controller = new AbortController()
    this.#held.set(controller, socket)
    this.#byFire.set(fire, ofFire + 1)
    const release = (): void => {
      socket.removeListener('close', abort)
      if (!this.#held.delete(controller)) return
      const left = (this.#byFire.get(fire) ?? 1) - 1
      if (left === 0) this.#byFire.delete(fire)
      else this.#byFire.set(fire, left)
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
    this.#byFire.clear()
  }
}
