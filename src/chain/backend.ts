import type { Block } from './block.js'
import { burnReason, type ChainLimits } from './budget.js'
import type { BurnReason, ChainEvent, Origin } from './events.js'
import type { ChainSlice, ChainStore } from './store.js'
import { MemoryWindows, type FlatlineLook, type FlatlineWindow, type FrequencyWindow } from './windows.js'

/** A shared store could not be reached: nothing of the request was stored. */
export class BackendUnavailable extends Error {
  override name = 'BackendUnavailable'
}

/** One request's append: stored whole, or the chain burned instead and nothing of it was stored. */
export type AppendOutcome =
  | {
    appended: true
    blocks: Block[]
    /** The blocks' JSON text as the store keeps it: views, for a big answer. */
    slice: ChainSlice
    /** The same text as strings, as they were hashed: a small answer is built from these. */
    texts: readonly string[]
    length: number
  }
  | { appended: false, burned: number, reason: BurnReason }

/**
 * Where a chain lives: this process's memory, or Redis shared by replicas.
 * Every read is served from `store`, this replica's copy of the chain. A
 * backend publishes the chain's own events (append, burn) through `emit`,
 * whichever replica caused them, and shares the rest through `share`.
 */
export interface ChainBackend {
  /** This replica's copy of the chain. */
  readonly store: ChainStore
  /** False while a shared store is unreachable: then nothing is read or written. */
  readonly available: boolean
  /** Whether other replicas share this chain, and with it the settings and the scenario. */
  readonly replicated: boolean
  /** Called once, by the chain that owns this backend. */
  attach (emit: (event: ChainEvent, origin: Origin) => void): void
  /** Appends every entry, or burns the chain instead when the roll or a budget says so. */
  append (entries: readonly string[], now: number, burnRolled: boolean): AppendOutcome | Promise<AppendOutcome>
  /** Burns the chain down to genesis; how many blocks were lost. */
  burn (reason: BurnReason): number | Promise<number>
  /**
   * Replaces the chain with a verified longer one from a naivechain peer:
   * its blocks' JSON texts, genesis first. False when it would not fit the
   * budget, or when this backend cannot (Redis: replicas never adopt).
   */
  adopt (texts: readonly string[], peer: string): boolean
  /** N in "request N meets the same fate for the same seed", counted across replicas. */
  nextRequestNumber (): number | Promise<number>
  /** Hands another replica-wide event (a fire, an alert) to the other replicas. */
  share (event: ChainEvent): void
  /** A small document every replica shares (the live settings), if one was saved. */
  loadShared (name: string): Promise<unknown>
  saveShared (name: string, value: unknown): Promise<void>
  /** Holds `name` for `ms` if no replica holds it: a device only one replica may drive at a time. */
  lease (name: string, ms: number): Promise<boolean>
  /** Adds `by` to the counter `name`, shared by every replica, and answers its new value: a scenario's "next N requests". */
  count (name: string, by: number): number | Promise<number>
  /**
   * Adds a match at `time` to a frequency alert rule's window for `group`,
   * shared by every replica, and answers the matches within `withinMs`. At
   * `threshold` the group's window empties, so one caller alone sees it
   * reached. At most `maxGroups` groups are kept, the one matched longest
   * ago forgotten first.
   */
  tally (rule: string, group: string, time: number, window: FrequencyWindow): number | Promise<number>
  /**
   * A flatline alert rule's watch, shared by every replica (`startedAt`:
   * when this replica started watching). A match answers the id of the
   * alert it resolves; a look answers whether it fires now, and only one
   * replica hears "fire"; `flatlineFired` then records the alert's id.
   */
  flatlineMatch (rule: string, time: number, window: FlatlineWindow, startedAt: number): number | undefined | Promise<number | undefined>
  flatlineLook (rule: string, time: number, window: FlatlineWindow, startedAt: number): FlatlineLook | Promise<FlatlineLook>
  flatlineFired (rule: string, id: number): void | Promise<void>
  close (): Promise<void>
}

/** Where alert rules count over time: a backend, or a process's own memory. */
export type WindowStore = Pick<ChainBackend, 'tally' | 'flatlineMatch' | 'flatlineLook' | 'flatlineFired'>

/**
 * What a chain's replicas share beside the blocks: small documents (the live
 * settings, a scenario's position), leases on devices only one replica may
 * drive, and counters (a scenario's "next N requests").
 */
export interface SharedState {
  load (name: string): Promise<unknown>
  save (name: string, value: unknown): Promise<void>
  /** Holds `name` for `ms` if no replica holds it. */
  lease (name: string, ms: number): Promise<boolean>
  /** Adds `by` to the counter `name` and answers its new value. */
  count (name: string, by: number): number | Promise<number>
}

// Counters a memory backend keeps: a looping scenario makes a new one per
// step and turn, and only the latest few are ever read again.
const MAX_COUNTERS = 10_000

/** The default backend: one process, nothing else to run. */
export class MemoryBackend implements ChainBackend {
  readonly store: ChainStore
  readonly available = true
  readonly replicated = false
  readonly #limits: ChainLimits
  #requests = 0
  #emit: (event: ChainEvent, origin: Origin) => void = () => {}
  // Made at their first use: a created fire that is never steered needs none of them.
  #sharedDocuments: Map<string, unknown> | undefined
  #countersMade: Map<string, number> | undefined
  #windowsMade: MemoryWindows | undefined
  get #shared (): Map<string, unknown> { return (this.#sharedDocuments ??= new Map()) }
  get #counters (): Map<string, number> { return (this.#countersMade ??= new Map()) }
  get #windows (): MemoryWindows { return (this.#windowsMade ??= new MemoryWindows()) }

  constructor (store: ChainStore, limits: ChainLimits) {
    this.store = store
    this.#limits = limits
  }

  attach (emit: (event: ChainEvent, origin: Origin) => void): void {
    this.#emit = emit
  }

  append (entries: readonly string[], now: number, burnRolled: boolean): AppendOutcome {
    const { store } = this
    const prepared = store.prepare(entries, now)
    const reason = burnReason(this.#limits, {
      burnRolled,
      length: store.length,
      incoming: entries.length,
      bytes: store.byteLength,
      incomingBytes: prepared.bytes
    })
    if (reason !== undefined) return { appended: false, burned: this.burn(reason), reason }

    const first = store.length
    const { blocks, slice } = store.commit(prepared)
    this.#emit({ type: 'append', count: entries.length, first, epoch: store.epoch, entries }, 'local')
    return { appended: true, blocks, slice, length: store.length, texts: prepared.texts }
  }

  burn (reason: BurnReason): number {
    const burned = this.store.burn()
    this.#emit({ type: 'burn', epoch: this.store.epoch, burned, reason }, 'local')
    return burned
  }

  adopt (texts: readonly string[], peer: string): boolean {
    const { store } = this
    const bytes = texts.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0)
    if (texts.length > this.#limits.maxBlocks || bytes > this.#limits.maxBytes) return false
    const from = store.length
    const burned = store.burn()
    store.follow(texts.slice(1))
    // A burn first, so viewers and the scorecard treat the old chain as lost
    // and none of the new blocks as deliveries; then what replaced it.
    this.#emit({ type: 'burn', epoch: store.epoch, burned, reason: 'replaced' }, 'local')
    this.#emit({ type: 'replaced', peer, from, to: store.length, epoch: store.epoch }, 'local')
    return true
  }

  nextRequestNumber (): number {
    this.#requests += 1
    return this.#requests
  }

  share (): void {}

  async loadShared (name: string): Promise<unknown> {
    return this.#shared.get(name)
  }

  async saveShared (name: string, value: unknown): Promise<void> {
    this.#shared.set(name, value)
  }

  // One process, one driver: always granted.
  async lease (): Promise<boolean> {
    return true
  }

  count (name: string, by: number): number {
    const value = (this.#counters.get(name) ?? 0) + by
    if (!this.#counters.has(name) && this.#counters.size >= MAX_COUNTERS) this.#counters.delete(this.#counters.keys().next().value as string)
    this.#counters.set(name, value)
    return value
  }

  tally (rule: string, group: string, time: number, window: FrequencyWindow): number {
    return this.#windows.tally(rule, group, time, window)
  }

  flatlineMatch (rule: string, time: number, window: FlatlineWindow, startedAt: number): number | undefined {
    return this.#windows.flatlineMatch(rule, time, window, startedAt)
  }

  flatlineLook (rule: string, time: number, window: FlatlineWindow, startedAt: number): FlatlineLook {
    return this.#windows.flatlineLook(rule, time, window, startedAt)
  }

  flatlineFired (rule: string, id: number): void {
    this.#windows.flatlineFired(rule, id)
  }

  async close (): Promise<void> {}
}
