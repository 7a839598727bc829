import type { AppendOutcome, ChainBackend, SharedState, WindowStore } from './backend.js'
import type { Block } from './block.js'
import { EventBus, type BurnEvent, type BurnReason, type ChainEvent, type ChainEventListener } from './events.js'
import type { ChainRead, ChainSlice } from './store.js'
import { verifyChain, type Verification } from './verify.js'

// Methods on a prototype, not closures: ten thousand fires make ten thousand of these.
class BackendSharedState implements SharedState {
  readonly #backend: ChainBackend
  constructor (backend: ChainBackend) { this.#backend = backend }
  load (name: string): Promise<unknown> { return this.#backend.loadShared(name) }
  save (name: string, value: unknown): Promise<void> { return this.#backend.saveShared(name, value) }
  lease (name: string, ms: number): Promise<boolean> { return this.#backend.lease(name, ms) }
  count (name: string, by: number): number | Promise<number> { return this.#backend.count(name, by) }
}

/**
 * The chain: the one object every route appends to, reads from, burns and
 * watches. It owns its backend (where the blocks live) and its event bus;
 * every operation publishes its own events, so no caller has to. What its
 * replicas share beside the blocks is `shared`; the alert rules' windows,
 * `windows`.
 */
export class Chain {
  readonly #backend: ChainBackend
  readonly #bus = new EventBus()

  /** What the replicas of this chain share beside its blocks: documents, leases, counters. */
  readonly shared: SharedState
  /** Where alert rules count their matches over time, on every replica. */
  readonly windows: WindowStore

  constructor (backend: ChainBackend) {
    this.#backend = backend
    this.shared = new BackendSharedState(backend)
    this.windows = backend
    backend.attach((event, origin) => { this.#bus.publish(event, origin) })
  }

  get length (): number { return this.#backend.store.length }
  get head (): Block { return this.#backend.store.head }
  /** How many times the chain has burned: block indexes repeat across epochs. */
  get epoch (): number { return this.#backend.store.epoch }
  /** False while a shared backend is unreachable. */
  get available (): boolean { return this.#backend.available }
  /** Whether other replicas share this chain (Redis), and with it the settings and the scenario. */
  get replicated (): boolean { return this.#backend.replicated }
  get lastBurn (): BurnEvent | undefined { return this.#bus.lastBurn }

  /** Appends every entry, or burns the chain instead (the roll, or a budget); never half of them. */
  append (entries: readonly string[], now: number, burnRolled = false): AppendOutcome | Promise<AppendOutcome> {
    return this.#backend.append(entries, now, burnRolled)
  }

  /** Burns the chain down to genesis; how many blocks were lost. */
  burn (reason: BurnReason): number | Promise<number> {
    return this.#backend.burn(reason)
  }

  /** Replaces the chain with a peer's longer one, already verified; false when it does not fit. */
  adopt (blocks: readonly Block[], peer: string): boolean {
    // Written in naivechain's key order, with no field a peer may have added.
    return this.#backend.adopt(blocks.map(({ index, previousHash, timestamp, data, hash }) => JSON.stringify({ index, previousHash, timestamp, data, hash })), peer)
  }

  nextRequestNumber (): number | Promise<number> {
    return this.#backend.nextRequestNumber()
  }

  at (index: number): Block | undefined { return this.#backend.store.at(index) }
  textAt (index: number): Buffer | undefined { return this.#backend.store.textAt(index) }
  /** Blocks from `from` on, as views used at once. */
  slice (from?: number): ChainSlice { return this.#backend.store.slice(from) }
  /** Blocks from `from` on, held until released: for reads that take more than one turn. */
  read (from?: number): ChainRead { return this.#backend.store.read(from) }
  bytesFrom (index: number): number { return this.#backend.store.bytesFrom(index) }
  indexWithin (bytes: number): number { return this.#backend.store.indexWithin(bytes) }
  toArray (): Block[] { return this.#backend.store.toArray() }
  verify (): Verification { return verifyChain(this.toArray()) }

  /** An event that is not the chain's own (a fire, an alert): to this replica's viewers and to the others. */
  publish (event: ChainEvent): void {
    this.#bus.publish(event)
    this.#backend.share(event)
  }

  subscribe (listener: ChainEventListener): () => void {
    return this.#bus.subscribe(listener)
  }

  close (): Promise<void> {
    return this.#backend.close()
  }
}
