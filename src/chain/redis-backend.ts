import { randomBytes } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { BackendUnavailable, type AppendOutcome, type ChainBackend } from './backend.js'
import { GENESIS, type Block } from './block.js'
import { burnReason, type ChainLimits } from './budget.js'
import type { BurnReason, ChainEvent, Origin } from './events.js'
import { ready, unavailableOnError, type RedisLink } from './redis-link.js'
import { APPEND, BURN, FLATLINE_LOOK, FLATLINE_MATCH, INIT, SHARE, TALLY } from './redis-scripts.js'
import type { FlatlineLook, FlatlineWindow, FrequencyWindow } from './windows.js'
import { GENESIS_BYTES, GENESIS_JSON, prepareBlocks, type ChainStore, type PreparedAppend } from './store.js'

export interface RedisBackendOptions {
  /** This process's connections to Redis, shared by every chain it follows. */
  link: RedisLink
  /** Every key starts with {namespace}: one chain per namespace, in one slot. */
  namespace: string
  store: ChainStore
  limits: ChainLimits
  /**
   * LOGFIRE_REDIS_WAIT: how many Redis replicas must hold an append before
   * its requests get their 200 (WAIT). 0: answered once the master has it.
   */
  waitReplicas?: number
}

// Entries read per XREAD: a replica loading a long chain takes it in pages.
// An entry is one batch of at most BATCH_BYTES (or one request bigger than that).
const PAGE = 256
// Batches sent before the first's reply is in: a second only behind a big
// one, whose preparing is worth overlapping; small requests gain more from
// waiting and going in the next batch together.
const IN_FLIGHT = 2
const OVERLAP_BYTES = 64 * 1024
// A batch stops taking queued requests past this: it bounds one stream entry.
const BATCH_BYTES = 1024 * 1024
// Waiting for this replica's copy to reach a head another replica wrote.
const CATCH_UP_MS = 5000
// A tick can be lost (the subscriber reconnecting, a slot moving, a
// failover): a chain that has read nothing for this long reads anyway, and
// compares its head with Redis's.
const POLL_MS = 5000
// How long an append waits for LOGFIRE_REDIS_WAIT replicas before its requests get a 503.
const WAIT_MS = 1000
const EVENTS_KEPT = 10_000
const COUNTER_TTL_MS = 24 * 3600 * 1000

interface Pending {
  entries: readonly string[]
  now: number
  burnRolled: boolean
  /** A burn asked for outright (the stage's button): whatever the chain holds then. */
  burnNow?: BurnReason
  resolve: (outcome: AppendOutcome) => void
  reject: (error: Error) => void
}

interface Planned { request: Pending, prepared: PreparedAppend, first: number }
interface Burning { request: Pending, reason: BurnReason }
interface Head { head: Block, length: number, bytes: number }
/** A batch: the requests planned on a base head, and a burn met after them, which waits. */
interface Batch extends Head { planned: Planned[], burning: Burning | undefined, epoch: number, base: Head }
interface Sent { reply?: [number, string?, string?], unconfirmed?: BackendUnavailable, error?: Error }

type StreamEntries = Array<[id: string, fields: string[]]>

export interface ChainKeys { head: string, chain: string, events: string, requests: string, tick: string, shared: (name: string) => string }

/** A chain's keys in Redis, all under one hash tag, so that they live on one shard. */
export function chainKeys (namespace: string): ChainKeys {
  const tag = `{${namespace}}`
  return {
    head: `${tag}:head`,
    chain: `${tag}:chain`,
    events: `${tag}:events`,
    requests: `${tag}:requests`,
    /** Not a key: the sharded channel on which the chain's scripts say it grew. */
    tick: `${tag}:tick`,
    shared: (name) => `${tag}:shared:${name}`
  }
}

/**
 * One chain shared by every replica, in Redis. Each replica keeps a full
 * copy in its own store, followed from Redis, and serves every read from
 * it: a full read costs Redis nothing.
 *
 * Appends are group commits: while one is in flight, requests queue, and
 * the next one takes them all. They are hashed on this replica's head and
 * sent in one script that appends them only if that head is still Redis's;
 * if another replica got there first, this replica catches up and hashes
 * them again. Each request keeps its own outcome: a batch stops at a
 * request that burns the chain, which burns it alone.
 *
 * Following costs no connection of its own: the scripts publish a tick on
 * the chain's channel, and each replica then reads what is new with one
 * XREAD on the shared connection (a blocking read cannot span a cluster's
 * slots, and would hold a connection per chain).
 */
export class RedisBackend implements ChainBackend {
  readonly store: ChainStore
  readonly replicated = true
  readonly #options: RedisBackendOptions
  readonly #client: Redis | Cluster
  readonly #keys: ChainKeys
  readonly #unwatch: () => void
  readonly #poll: NodeJS.Timeout
  readonly #replica = randomBytes(6).toString('hex')
  #emit: (event: ChainEvent, origin: Origin) => void = () => {}
  #queue: Pending[] = []
  /** Requests waiting for their number, until the end of this turn of the event loop. */
  #numbering: Array<{ resolve: (n: number) => void, reject: (error: Error) => void }> = []
  /** Batches sent whose reply has not been settled. */
  #inflight = 0
  /** The head the batches in flight will leave, which the next is hashed on. */
  #ahead: Head | undefined
  /** Replies are settled in the order the batches were sent. */
  #settling: Promise<void> = Promise.resolve()
  /** Requests of batches the compare-and-set refused, in order, and the head Redis had then. */
  #returned: Pending[] | undefined
  #refusedAt: [number, number] | undefined
  /** A batch in flight failed: whether it landed is unknown, so the batches behind it are answered 503. */
  #lost = false
  #burning = false
  /** A script is in flight: the follower holds what it reads. */
  #holding = false
  /** Chain entries read while an append was in flight, applied after it. */
  #held: StreamEntries = []
  #chainId = '0-0'
  #eventsId = '$'
  #loaded = false
  #reachable = false
  #closed = false
  /** A read of what is new is under way; another tick came meanwhile. */
  #reading = false
  #readAgain = false
  #lastRead = 0
  #waiters: Array<{ epoch: number, length: number, done: () => void }> = []
  /** Matches this replica added to frequency windows: each its own member. */
  #tallied = 0

  private constructor (options: RedisBackendOptions) {
    this.#options = options
    this.store = options.store
    this.#keys = chainKeys(options.namespace)
    const { link } = options
    this.#client = link.client
    for (const [name, script] of [['logfireInit', INIT], ['logfireAppend', APPEND], ['logfireBurn', BURN], ['logfireTally', TALLY], ['logfireFlatlineMatch', FLATLINE_MATCH], ['logfireFlatlineLook', FLATLINE_LOOK]] as const) {
      link.define(name, script, 2)
    }
    link.define('logfireShare', SHARE, 1)
    this.#unwatch = link.watch({
      down: () => {
        this.#reachable = false
        // Nothing will be read until Redis is back: requests waiting to be hashed again go on, to their 503.
        for (const waiter of this.#waiters.splice(0)) waiter.done()
      },
      up: () => { this.#onReady().catch(() => {}) }
    })
    this.#poll = setInterval(() => {
      if (Date.now() - this.#lastRead < POLL_MS) return
      this.#read()
      this.#checkHead().catch(() => {})
    }, POLL_MS).unref()
  }

  /** Connects, creates the chain if Redis has none, and starts following it. */
  static async connect (options: RedisBackendOptions): Promise<RedisBackend> {
    const backend = new RedisBackend(options)
    try {
      await ready(backend.#client)
      await options.link.follow(backend.#keys.tick, (tick) => {
        const [id = '', by] = tick.split(' ')
        if (by === backend.#replica) return
        if (id === '' || later(id, backend.#chainId)) backend.#read()
        // Another replica's entry, at or before what this copy holds: Redis lost what came after it.
        else backend.#checkHead().catch(() => {})
      })
      await backend.#ensureChain()
      // Shared events from now on: the last one's id, so none is missed between reads.
      const last = await backend.#client.xrevrange(backend.#keys.events, '+', '-', 'COUNT', 1)
      backend.#eventsId = last[0]?.[0] ?? '0-0'
      backend.#reachable = true
      backend.#read()
      await backend.#caughtUpWithRedis()
    } catch (error) {
      await backend.close()
      throw error instanceof BackendUnavailable ? error : new BackendUnavailable((error as Error).message)
    }
    return backend
  }

  /**
   * For @fastify/rate-limit: its counters in Redis, so the limit counts
   * across replicas. While Redis is away the limit lets requests by: they
   * meet LOGFIRE_STORE_UNAVAILABLE instead of a 500 from the limit.
   */
  rateLimitStore (name: string): { redis: Redis | Cluster, nameSpace: string, skipOnError: boolean } {
    // No hash tag: each client's counter hashes whole, so a cluster spreads them over its slots.
    return { redis: this.#client, nameSpace: `${this.#options.namespace}:rate:${name}:`, skipOnError: true }
  }

  get available (): boolean {
    return this.#loaded && this.#reachable && this.#options.link.reachable
  }

  attach (emit: (event: ChainEvent, origin: Origin) => void): void {
    this.#emit = emit
  }

  append (entries: readonly string[], now: number, burnRolled: boolean): Promise<AppendOutcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ entries, now, burnRolled, resolve, reject })
      this.#drain()
    })
  }

  /** Queued like an append, so that it never runs while one is in flight. */
  async burn (reason: BurnReason): Promise<number> {
    const outcome = await new Promise<AppendOutcome>((resolve, reject) => {
      this.#queue.push({ entries: [], now: 0, burnRolled: true, burnNow: reason, resolve, reject })
      this.#drain()
    })
    return outcome.appended ? 0 : outcome.burned
  }

  // Replicas share one chain of record: none of them adopts a peer's (config refuses LOGFIRE_P2P_ACCEPT with Redis).
  adopt (): boolean {
    return false
  }

  /**
   * The requests that arrive in one turn of the event loop take their
   * numbers with one INCRBY, in the order they arrived: a round trip to
   * Redis per turn, not per request.
   */
  nextRequestNumber (): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#numbering.push({ resolve, reject })
      if (this.#numbering.length === 1) setImmediate(this.#number)
    })
  }

  readonly #number = (): void => {
    const waiting = this.#numbering
    this.#numbering = []
    this.#client.incrby(this.#keys.requests, waiting.length).then((last) => {
      const first = last - waiting.length + 1
      for (let i = 0; i < waiting.length; i++) waiting[i]?.resolve(first + i)
    }, (error: Error) => {
      const unavailable = new BackendUnavailable(error.message)
      for (const request of waiting) request.reject(unavailable)
    })
  }

  share (event: ChainEvent): void {
    (this.#client as unknown as Scripts).logfireShare(this.#keys.events, String(EVENTS_KEPT), this.#replica, JSON.stringify(event), this.#keys.tick)
      .catch(() => {})
  }

  async loadShared (name: string): Promise<unknown> {
    const text = await unavailableOnError(this.#client.get(this.#keys.shared(name)))
    return text === null ? undefined : JSON.parse(text)
  }

  async saveShared (name: string, value: unknown): Promise<void> {
    await unavailableOnError(this.#client.set(this.#keys.shared(name), JSON.stringify(value)))
  }

  async lease (name: string, ms: number): Promise<boolean> {
    const held = await unavailableOnError(this.#client.set(this.#keys.shared(`lease:${name}`), this.#replica, 'PX', Math.max(1, Math.round(ms)), 'NX'))
    return held === 'OK'
  }

  async count (name: string, by: number): Promise<number> {
    const key = this.#keys.shared(`count:${name}`)
    // A day is longer than any step waits; an abandoned counter goes by itself.
    const replies = await unavailableOnError(this.#client.multi().incrby(key, by).pexpire(key, COUNTER_TTL_MS).exec())
    const [error, value] = replies?.[0] ?? [new Error('no reply')]
    if (error !== null) throw new BackendUnavailable(error.message)
    return Number(value)
  }

  async tally (rule: string, group: string, time: number, window: FrequencyWindow): Promise<number> {
    const prefix = this.#keys.shared(`tally:${rule}:`)
    const member = `${this.#replica}:${++this.#tallied}`
    const [count, pushedOut] = await unavailableOnError((this.#client as unknown as Scripts).logfireTally(`${prefix}groups`, `${prefix}g:${group}`,
      String(time), String(window.withinMs), String(window.threshold), String(window.maxGroups), member, group))
    // Its matches would expire with the window anyway; deleted now, they hold no memory past the rule's maxGroups.
    if (pushedOut !== '') await unavailableOnError(this.#client.del(`${prefix}g:${pushedOut}`))
    return count
  }

  async flatlineMatch (rule: string, time: number, window: FlatlineWindow): Promise<number | undefined> {
    const resolves = await unavailableOnError((this.#client as unknown as Scripts).logfireFlatlineMatch(...this.#flatlineKeys(rule), String(time), String(window.threshold), String(window.withinMs)))
    return resolves < 0 ? undefined : resolves
  }

  async flatlineLook (rule: string, time: number, window: FlatlineWindow, startedAt: number): Promise<FlatlineLook> {
    const [answer, value] = await unavailableOnError((this.#client as unknown as Scripts).logfireFlatlineLook(...this.#flatlineKeys(rule), String(time), String(window.threshold), String(window.withinMs), String(startedAt)))
    return answer === 0 ? { firing: true } : answer === 1 ? { next: Number(value) } : { fire: Number(value) }
  }

  async flatlineFired (rule: string, id: number): Promise<void> {
    await unavailableOnError(this.#client.hset(this.#flatlineKeys(rule)[1], 'fired', String(id)))
  }

  #flatlineKeys (rule: string): [string, string] {
    const prefix = this.#keys.shared(`flatline:${rule}:`)
    return [`${prefix}matches`, `${prefix}state`]
  }

  async close (): Promise<void> {
    this.#closed = true
    clearInterval(this.#poll)
    this.#unwatch()
    this.#options.link.unfollow(this.#keys.tick)
    for (const request of this.#queue.splice(0)) request.reject(new BackendUnavailable('closing'))
  }

  // ---- appends

  /**
   * Sends the queued requests a batch at a time, up to two batches in
   * flight: the second is hashed on the head the first will leave, so this
   * replica prepares it while Redis runs the first. Replies come back in
   * order, on one connection. A batch the compare-and-set refuses dooms the
   * one behind it (hashed on a head that never landed): both go back to the
   * queue, in their order, once both are settled. A burn runs alone.
   */
  #drain (): void {
    while (!this.#closed && !this.#burning && this.#returned === undefined && this.#queue.length > 0 &&
      (this.#inflight === 0 || (this.#inflight < IN_FLIGHT && (this.#ahead?.bytes ?? 0) - this.store.byteLength >= OVERLAP_BYTES))) {
      const batch = this.#plan()
      if (batch.planned.length > 0) this.#send(batch)
      if (batch.burning === undefined) continue
      // The burn stays at the head of the queue until nothing is in flight.
      if (this.#inflight > 0) return
      const burning = batch.burning
      this.#queue.shift()
      this.#burning = true
      this.#burn(burning).finally(() => {
        this.#burning = false
        this.#release()
        this.#drain()
      }).catch(() => {})
      return
    }
  }

  /** The next batch, hashed on the head the batches in flight will leave; a burn it meets stays queued. */
  #plan (): Batch {
    const { store } = this
    const epoch = store.epoch
    const base = this.#ahead ?? { head: store.head, length: store.length, bytes: store.byteLength }
    let { head, length, bytes } = base
    const planned: Planned[] = []
    let burning: Burning | undefined
    for (const request of this.#queue) {
      if (request.burnNow !== undefined) {
        burning = { request, reason: request.burnNow }
        break
      }
      const prepared = prepareBlocks(head, epoch, length, request.entries, request.now)
      if (planned.length > 0 && bytes - base.bytes + prepared.bytes > BATCH_BYTES) break
      const reason = burnReason(this.#options.limits, { burnRolled: request.burnRolled, length, incoming: request.entries.length, bytes, incomingBytes: prepared.bytes })
      if (reason !== undefined) {
        burning = { request, reason }
        break
      }
      planned.push({ request, prepared, first: length })
      head = prepared.blocks.at(-1) ?? head
      length += request.entries.length
      bytes += prepared.bytes
    }
    this.#queue.splice(0, planned.length)
    return { planned, burning, epoch, base, head, length, bytes }
  }

  #send (batch: Batch): void {
    this.#inflight++
    // Until every reply is in, the follower holds what it reads: this
    // replica's copy must still be the head the blocks were hashed on.
    this.#holding = true
    this.#ahead = { head: batch.head, length: batch.length, bytes: batch.bytes }
    const sent = this.#appendScript(batch)
    this.#settling = this.#settling.then(async () => { await this.#settle(batch, await sent) }).catch(() => {})
  }

  /** The append script, with WAIT in the same round trip when LOGFIRE_REDIS_WAIT asks; never rejects. */
  async #appendScript (batch: Batch): Promise<Sent> {
    const count = batch.length - batch.base.length
    const args = [this.#keys.head, this.#keys.chain, String(batch.epoch), String(batch.base.length), batch.base.head.hash, batch.head.hash,
      String(batch.bytes - batch.base.bytes), String(count), joinedTexts(batch), this.#keys.tick, this.#replica] as [string, string, ...Array<string | Buffer>]
    try {
      const wait = this.#options.waitReplicas ?? 0
      if (wait === 0) return { reply: await (this.#client as unknown as Scripts).logfireAppend(...args) }
      const pipeline = this.#client.pipeline() as unknown as Scripts & { wait: (n: number, ms: number) => unknown, exec: () => Promise<Array<[Error | null, unknown]>> }
      pipeline.logfireAppend(...args)
      pipeline.wait(wait, WAIT_MS)
      const [[appendError, reply], [waitError, replicas]] = await pipeline.exec() as [[Error | null, [number, string?, string?]], [Error | null, number]]
      if (appendError !== null) return { error: appendError }
      // In the chain, but not known to be on a replica: no 200, so the client sends it again (a duplicate, never a loss).
      return { reply, ...(waitError !== null || replicas < wait ? { unconfirmed: new BackendUnavailable(`not confirmed by ${wait} Redis replica(s) within ${WAIT_MS} ms`) } : {}) }
    } catch (error) {
      return { error: error as Error }
    }
  }

  async #settle (batch: Batch, sent: Sent): Promise<void> {
    this.#inflight--
    const requests = batch.planned.map(({ request }) => request)
    if (sent.error !== undefined || this.#lost) {
      // Whether it landed is unknown: a 503 (a resend may store it twice). A
      // batch behind it that lands comes to this copy through the follower.
      this.#lost = true
      const unavailable = new BackendUnavailable(sent.error?.message ?? 'a batch before this one failed')
      for (const request of requests) request.reject(unavailable)
    } else if (sent.reply?.[0] !== 1) {
      // Another replica appended first: these go back, to be hashed again.
      (this.#returned ??= []).push(...requests)
      this.#refusedAt ??= [Number(sent.reply?.[1]), Number(sent.reply?.[2])]
    } else {
      // Every entry up to this one is in this replica's copy now: none is read back.
      this.#chainId = latest(this.#chainId, `${batch.epoch + 1}-${batch.base.length}`)
      for (const { request, prepared, first } of batch.planned) {
        const { blocks, slice } = this.store.commit(prepared)
        this.#emit({ type: 'append', count: request.entries.length, first, epoch: batch.epoch, entries: request.entries }, 'local')
        if (sent.unconfirmed !== undefined) request.reject(sent.unconfirmed)
        else request.resolve({ appended: true, blocks, slice, length: first + request.entries.length, texts: prepared.texts })
      }
    }
    if (this.#inflight > 0) {
      this.#drain()
      return
    }
    this.#ahead = undefined
    this.#lost = false
    const returned = this.#returned
    const refusedAt = this.#refusedAt
    if (returned !== undefined && refusedAt !== undefined) {
      this.#queue.unshift(...returned)
      // #returned still set keeps #drain from sending a batch hashed on this
      // stale head meanwhile: its reply would settle behind this one, and
      // hold back the very entries this waits for until CATCH_UP_MS.
      await this.#catchUp(refusedAt[0], refusedAt[1])
    }
    this.#returned = undefined
    this.#refusedAt = undefined
    this.#release()
    this.#drain()
  }

  async #burn (burning: Burning): Promise<void> {
    const { store } = this
    // The button burns whatever chain Redis holds; a roll or a budget, the chain it was decided on.
    const decidedOn = burning.request.burnNow !== undefined ? ['', '', ''] : [String(store.epoch), String(store.length), store.head.hash]
    this.#holding = true
    let reply: [number, string?, string?]
    try {
      reply = await (this.#client as unknown as Scripts).logfireBurn(this.#keys.head, this.#keys.chain,
        ...decidedOn, burning.reason, GENESIS_JSON, GENESIS.hash, String(GENESIS_BYTES), this.#keys.tick)
    } catch (error) {
      burning.request.reject(new BackendUnavailable((error as Error).message))
      return
    }
    if (reply[0] !== 1) {
      this.#queue.unshift(burning.request)
      await this.#catchUp(Number(reply[1]), Number(reply[2]))
      return
    }
    const burned = Number(reply[1])
    this.store.burnTo(Number(reply[2]))
    this.#chainId = latest(this.#chainId, `${Number(reply[2]) + 1}-0`)
    this.#emit({ type: 'burn', epoch: this.store.epoch, burned, reason: burning.reason }, 'local')
    burning.request.resolve({ appended: false, burned, reason: burning.reason })
  }

  /** Lets the follower go on: applies what it read while a script was in flight. */
  #release (): void {
    if (!this.#holding) return
    this.#holding = false
    const held = this.#held
    this.#held = []
    this.#applyChain(held)
  }

  /** Resolves once this replica's copy has reached a head Redis reported. */
  async #catchUp (epoch: number, length: number): Promise<void> {
    // A head that moved, yet is not ahead of this copy: Redis lost blocks.
    if (this.#reached(epoch, length)) await this.#resync().catch(() => {})
    this.#release()
    if (this.#reached(epoch, length)) return Promise.resolve()
    this.#read()
    return new Promise((resolve) => {
      const waiter = { epoch, length, done: resolve }
      this.#waiters.push(waiter)
      setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter)
        resolve()
      }, CATCH_UP_MS).unref()
    })
  }

  /**
   * Redis no longer holds blocks this replica has: a failover lost writes
   * its master had acknowledged (Redis replicates asynchronously). Redis is
   * the chain of record: this copy starts again from it, and says how much
   * was lost.
   */
  async #resync (): Promise<void> {
    const entries = await this.#client.xrange(this.#keys.chain, '-', '+') as StreamEntries
    const first = entries[0]?.[0]
    if (first === undefined) return
    const held = Array.from({ length: this.store.length }, (_, index) => this.store.at(index)?.hash)
    const heldEpoch = this.store.epoch
    this.#held = []
    this.store.burnTo(Number(first.slice(0, first.indexOf('-'))) - 1)
    this.#chainId = '0-0'
    this.#applyChain(entries)
    this.#chainId = latest(this.#chainId, (entries.at(-1) as [string, string[]])[0])
    // Lost: every block this copy held that is not in Redis's chain at its place.
    const lost = held.filter((hash, index) => index > 0 && (this.store.epoch !== heldEpoch || this.store.at(index)?.hash !== hash)).length
    this.#options.link.lostBlocks += lost
    this.#options.link.log('error', { redis: 'lost', lostBlocks: lost, namespace: this.#options.namespace }, 'redis lost blocks this replica had acknowledged (a failover without LOGFIRE_REDIS_WAIT): reloaded the chain from it')
  }

  /** Asks Redis for its head: reads on when it is ahead, reloads when it lost what this copy holds. */
  async #checkHead (): Promise<void> {
    const [epoch, length, hash] = await this.#client.hmget(this.#keys.head, 'epoch', 'length', 'hash')
    this.#lastRead = Date.now()
    if (epoch === null || length === null || this.#holding || this.#closed) return
    const same = Number(epoch) === this.store.epoch && Number(length) === this.store.length && hash === this.store.head.hash
    if (same) return
    if (this.#reached(Number(epoch), Number(length))) await this.#resync()
    else this.#read()
  }

  #reached (epoch: number, length: number): boolean {
    return this.store.epoch > epoch || (this.store.epoch === epoch && this.store.length >= length)
  }

  // ---- following Redis

  /** Reads what is new in the chain's stream and the shared events: once per tick, however many came during a read. */
  #read (): void {
    if (this.#closed) return
    if (this.#reading) {
      this.#readAgain = true
      return
    }
    this.#reading = true
    const loop = async (): Promise<void> => {
      do {
        this.#readAgain = false
        const reply = await this.#client.xread('COUNT', PAGE, 'STREAMS', this.#keys.chain, this.#keys.events, this.#chainId, this.#eventsId) as Array<[string, StreamEntries]> | null
        this.#lastRead = Date.now()
        for (const [key, entries] of reply ?? []) {
          if (entries.length === 0) continue
          // A full page: there may be more.
          if (entries.length === PAGE) this.#readAgain = true
          if (key === this.#keys.chain) {
            this.#chainId = latest(this.#chainId, (entries.at(-1) as [string, string[]])[0])
            if (this.#holding) this.#held.push(...entries)
            else this.#applyChain(entries)
          } else {
            this.#eventsId = (entries.at(-1) as [string, string[]])[0]
            this.#applyEvents(entries)
          }
        }
        if (!this.#readAgain) this.#loaded = true
      } while (this.#readAgain && !this.#closed)
    }
    loop().catch(() => {}).finally(() => { this.#reading = false })
  }

  /** Stores blocks another replica appended, and burns with it; skips what this replica already has. */
  #applyChain (entries: StreamEntries): void {
    let run: string[] = []
    let runFirst = 0
    const flush = () => {
      if (run.length === 0) return
      if (this.store.follow(run)) {
        this.#emit({ type: 'append', count: run.length, first: runFirst, epoch: this.store.epoch, entries: [] }, 'remote')
      }
      run = []
    }
    for (const [id, fields] of entries) {
      const dash = id.indexOf('-')
      const epoch = Number(id.slice(0, dash)) - 1
      const index = Number(id.slice(dash + 1))
      if (epoch < this.store.epoch || (epoch === this.store.epoch && index < this.store.length + run.length)) continue
      if (epoch > this.store.epoch) {
        flush()
        const reason = (field(fields, 'reason') ?? 'random') as BurnReason
        const burned = Number(field(fields, 'burned') ?? this.store.length - 1)
        this.store.burnTo(epoch)
        if (this.#loaded) this.#emit({ type: 'burn', epoch, burned, reason }, 'remote')
        continue
      }
      const text = field(fields, 'b')
      if (text === undefined) continue
      if (run.length === 0) runFirst = index
      for (const block of text.split('\n')) run.push(block)
    }
    flush()
    this.#wakeWaiters()
  }

  #applyEvents (entries: StreamEntries): void {
    for (const [, fields] of entries) {
      if (field(fields, 'r') === this.#replica) continue
      const text = field(fields, 'e')
      if (text === undefined) continue
      try {
        this.#emit(JSON.parse(text) as ChainEvent, 'remote')
      } catch {}
    }
  }

  #wakeWaiters (): void {
    if (this.#waiters.length === 0) return
    const due = this.#waiters.filter((w) => this.#reached(w.epoch, w.length))
    this.#waiters = this.#waiters.filter((w) => !due.includes(w))
    for (const waiter of due) waiter.done()
  }

  async #caughtUpWithRedis (): Promise<void> {
    const [epoch, length] = await this.#client.hmget(this.#keys.head, 'epoch', 'length')
    const began = Date.now()
    while (!this.#loaded || !this.#reached(Number(epoch), Number(length))) {
      if (Date.now() - began > 30_000) throw new BackendUnavailable('could not load the chain from Redis')
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  // ---- outages

  async #ensureChain (): Promise<void> {
    // A chain that vanished from Redis while this replica held one (Redis
    // restarted without persistence) comes back as a new epoch, so every
    // replica burns its copy rather than keep blocks Redis no longer has.
    const epoch = this.store.length > 1 ? this.store.epoch + 1 : this.store.epoch
    await (this.#client as unknown as Scripts).logfireInit(this.#keys.head, this.#keys.chain, String(epoch), GENESIS_JSON, GENESIS.hash, String(GENESIS_BYTES), this.#keys.tick)
  }

  async #onReady (): Promise<void> {
    if (this.#reachable || this.#closed || !this.#loaded) return
    await this.#ensureChain()
    this.#reachable = true
    this.#read()
  }
}

interface Scripts {
  logfireInit: (head: string, chain: string, ...args: string[]) => Promise<number>
  logfireAppend: (head: string, chain: string, ...args: Array<string | Buffer>) => Promise<[number, string?, string?]>
  logfireBurn: (head: string, chain: string, ...args: string[]) => Promise<[number, string?, string?]>
  logfireTally: (groups: string, matches: string, ...args: string[]) => Promise<[number, string]>
  logfireFlatlineMatch: (matches: string, state: string, ...args: string[]) => Promise<number>
  logfireFlatlineLook: (matches: string, state: string, ...args: string[]) => Promise<[number, number?]>
  logfireShare: (events: string, ...args: string[]) => Promise<null>
}

/**
 * A batch's blocks as the stream entry holds them, one text a line, as
 * UTF-8 bytes written once: a string this size would be joined, copied
 * into the command and encoded again on its way to the socket.
 */
function joinedTexts ({ planned, bytes, base }: Batch): Buffer {
  // Each size counts its text's bytes and one separator; the last has none.
  const joined = Buffer.allocUnsafe(Math.max(bytes - base.bytes - 1, 0))
  let offset = 0
  for (const { prepared } of planned) {
    for (const text of prepared.texts) {
      if (offset > 0) joined[offset++] = 0x0a
      offset += joined.write(text, offset)
    }
  }
  return joined
}

/** Whether stream id a comes after b. */
function later (a: string, b: string): boolean {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number)
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number)
  return aMs > bMs || (aMs === bMs && aSeq > bSeq)
}

const latest = (a: string, b: string): string => later(b, a) ? b : a

function field (fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1]
  return undefined
}
