/** Why the chain burned: the roll, a budget it would have outgrown, the stage's button, a peer's longer chain adopted, a scenario's step, or an alert's chaos output. */
export type BurnReason = 'random' | 'memory budget' | 'admin' | 'replaced' | 'scenario' | 'alert'

/**
 * Every event on the chain's timeline, by type. The chain publishes its own
 * (append, burn); the folders above it add theirs to this map with
 * `declare module '../chain/events.js'`, as Fastify's decorators do, so the
 * bus stays at the bottom layer and still knows every event's shape.
 */
export interface ChainEventMap {
  append: {
    count: number
    /** The index of the first block appended. */
    first: number
    epoch: number
    /** The entries, when this replica appended them; another replica's appends carry none. */
    entries: readonly string[]
  }
  /** `epoch` is the new chain's. */
  burn: { epoch: number, burned: number, reason: BurnReason }
  /** A peer's longer chain was adopted (LOGFIRE_P2P_ACCEPT=longest), right after a burn with reason `replaced`. */
  replaced: { peer: string, from: number, to: number, epoch: number }
}

export type ChainEvent = { [K in keyof ChainEventMap]: { type: K } & ChainEventMap[K] }[keyof ChainEventMap]
export type BurnEvent = Extract<ChainEvent, { type: 'burn' }>
/** Whether this replica caused an event, or another one did (it arrived through the shared store). */
export type Origin = 'local' | 'remote'
export type ChainEventListener = (event: ChainEvent, origin: Origin) => void

/**
 * A small synchronous publish/subscribe hub, one per chain. Listeners run
 * inside publish, so they must only record the event and return.
 */
export class EventBus {
  #listeners = new Set<ChainEventListener>()
  #lastBurn: BurnEvent | undefined

  /** The most recent burn, for a viewer that comes back after it. */
  get lastBurn (): BurnEvent | undefined {
    return this.#lastBurn
  }

  publish (event: ChainEvent, origin: Origin = 'local'): void {
    if (event.type === 'burn') this.#lastBurn = event
    for (const listener of this.#listeners) listener(event, origin)
  }

  subscribe (listener: ChainEventListener): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }
}
