import type { Alert } from '../alerts/engine.js'
import type { BurnReason } from '../fire/wipe.js'

/** Things that happen to the chain and that a viewer may want to see. */
export type ChainEvent =
  | { type: 'append', count: number, first: number, epoch: number, entries: readonly string[] }
  | { type: 'burn', epoch: number, burned: number, reason: BurnReason }
  | { type: 'fire', request: number }
  | { type: 'gdpr', request: number, entry: number, term: string }
  | { type: 'alert', alert: Alert }
  | { type: 'output', output: string, ok: boolean, attempts: number, seconds: number }
  | { type: 'balloon', balloon: string, inflating: boolean, seconds: number }

export type ChainEventListener = (event: ChainEvent) => void

/**
 * A small synchronous publish/subscribe hub, one per app. Listeners run
 * inside publish, so they must only record the event and return.
 */
export class ChainEvents {
  #listeners = new Set<ChainEventListener>()
  #lastBurn: Extract<ChainEvent, { type: 'burn' }> | undefined

  /** The most recent burn, for a viewer that comes back after it. */
  get lastBurn () {
    return this.#lastBurn
  }

  publish (event: ChainEvent): void {
    if (event.type === 'burn') this.#lastBurn = event
    for (const listener of this.#listeners) listener(event)
  }

  subscribe (listener: ChainEventListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }
}
