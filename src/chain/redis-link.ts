import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis'
import { BackendUnavailable } from './backend.js'

/** One Redis (LOGFIRE_REDIS_URL), or a Redis Cluster found from its seed nodes (LOGFIRE_REDIS_CLUSTER). */
export type RedisServers = { url: string } | { cluster: readonly string[] }

export interface RedisLinkOptions {
  servers: RedisServers
  /** What CLIENT LIST shows for this process's connections: logfire:<replica>:<namespace>. */
  name?: string
  /** Told once when Redis goes away, once when it is back. */
  log: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => void
}

// A cluster's master that failed this recently, and is not connected, is out of reach.
const NODE_FAILED_MS = 5000
// How long a starting replica waits for Redis before it gives up.
const CONNECT_MS = 30_000

/**
 * This process's connections to Redis, shared by every chain it follows
 * and by the fire registry: a command connection (per node, in a cluster),
 * and one subscriber for the chains' ticks. Connections do not grow with
 * the number of fires.
 *
 * A chain's scripts publish a tick on its own sharded channel whenever its
 * streams grow (SPUBLISH, in the chain's slot), and each follower reads
 * what is new. In a cluster a tick stays on the node that holds the chain,
 * and ioredis keeps one subscriber per master, moving subscriptions when
 * slots move.
 */
export class RedisLink {
  readonly client: Redis | Cluster
  readonly #subscriber: Redis | Cluster
  readonly #options: RedisLinkOptions
  readonly #ticks = new Map<string, (tick: string) => void>()
  readonly #watchers = new Set<RedisWatcher>()
  readonly #defined = new Set<string>()
  /** In a cluster: when each node last failed a command or a connection. */
  readonly #nodeFailedAt = new Map<string, number>()
  /** Connecting until connect() returns; then up, or down while Redis is away. */
  #state: 'connecting' | 'up' | 'down' = 'connecting'
  #closed = false
  /** Blocks the chains held that Redis no longer had: acknowledged writes a failover lost. */
  lostBlocks = 0

  private constructor (options: RedisLinkOptions) {
    this.#options = options
    this.client = connection(options.servers, options.name, false)
    this.#subscriber = connection(options.servers, options.name, true)
    for (const each of [this.client, this.#subscriber]) {
      // ioredis reports every failed reconnection; the outage is logged once, below.
      each.on('error', () => {})
      each.on('close', () => { this.#down() })
      each.on('ready', () => { this.#up() })
    }
    this.#subscriber.on('smessage', (channel: string, tick: string) => { this.#ticks.get(channel)?.(tick) })
    this.client.on('node error', (_error: Error, key: string) => { this.#nodeFailedAt.set(key, Date.now()) })
  }

  static async connect (options: RedisLinkOptions): Promise<RedisLink> {
    const link = new RedisLink(options)
    try {
      await Promise.all([link.client, link.#subscriber].map(async (each) => {
        each.connect().catch(() => {})
        await ready(each)
      }))
    } catch (error) {
      await link.close()
      throw error
    }
    link.#state = 'up'
    return link
  }

  get cluster (): boolean { return 'cluster' in this.#options.servers }

  get log (): RedisLinkOptions['log'] { return this.#options.log }

  /** In a cluster, the masters this replica knows, and how many of them it cannot reach now. */
  masters (): { known: number, unreachable: number } {
    if (!(this.client instanceof Cluster)) return { known: 1, unreachable: this.reachable ? 0 : 1 }
    // The masters that serve slots, as the cluster last said. A master is out
    // of reach while it is not connected and has failed lately: ioredis drops
    // a node it cannot reach, and adds it back, unconnected, at the next map.
    const serving = new Set(this.client.slots.flatMap((nodes) => nodes?.[0] ?? []))
    const connected = new Set(this.client.nodes('master').filter((node) => node.status === 'ready').map(({ options }) => `${options.host ?? ''}:${options.port ?? ''}`))
    const now = Date.now()
    const unreachable = [...serving].filter((key) => !connected.has(key) && now - (this.#nodeFailedAt.get(key) ?? -Infinity) < NODE_FAILED_MS)
    return { known: serving.size, unreachable: unreachable.length }
  }

  get reachable (): boolean {
    return this.#state === 'up' && this.client.status === 'ready' && this.#subscriber.status === 'ready'
  }

  /** A script as a command of the client's, defined once however many chains use it. */
  define (name: string, lua: string, numberOfKeys?: number): void {
    if (this.#defined.has(name)) return
    this.#defined.add(name)
    this.client.defineCommand(name, numberOfKeys === undefined ? { lua } : { numberOfKeys, lua })
  }

  /** Calls onTick whenever a tick is published on channel, until unfollow. */
  async follow (channel: string, onTick: (tick: string) => void): Promise<void> {
    this.#ticks.set(channel, onTick)
    await unavailableOnError(this.#subscriber.ssubscribe(channel))
  }

  unfollow (channel: string): void {
    if (!this.#ticks.delete(channel) || this.#closed) return
    this.#subscriber.sunsubscribe(channel).catch(() => {})
  }

  /** Told when Redis goes away and when it is back: each chain then makes sure Redis still holds it. */
  watch (watcher: RedisWatcher): () => void {
    this.#watchers.add(watcher)
    return () => { this.#watchers.delete(watcher) }
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#ticks.clear()
    this.#subscriber.disconnect()
    await this.client.quit().catch(() => { this.client.disconnect() })
  }

  #down (): void {
    if (this.#state !== 'up' || this.#closed) return
    this.#state = 'down'
    this.#options.log('warn', { redis: 'unreachable' }, 'redis unreachable: answering 503 until it is back')
    for (const watcher of this.#watchers) watcher.down()
  }

  #up (): void {
    if (this.#state !== 'down' || this.#closed || this.client.status !== 'ready' || this.#subscriber.status !== 'ready') return
    this.#state = 'up'
    this.#options.log('info', { redis: 'reachable' }, 'redis reachable again')
    // Ticks published while the subscriber was away are lost: every chain reads what it missed.
    for (const watcher of this.#watchers) watcher.up()
  }
}

export interface RedisWatcher { down: () => void, up: () => void }

/**
 * While Redis is away, commands fail at once (a clear 503) instead of
 * queueing in memory, and ioredis keeps reconnecting by itself. No
 * auto-pipelining: commands are few (a number per turn, a script per
 * batch), and it cost a third of the throughput.
 */
function connection (servers: RedisServers, connectionName: string | undefined, subscriber: boolean): Redis | Cluster {
  const options: RedisOptions = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    ...(connectionName === undefined ? {} : { connectionName })
  }
  if ('cluster' in servers) {
    const { lazyConnect, enableOfflineQueue, ...redisOptions } = options
    const tls = servers.cluster.some((url) => url.startsWith('rediss:'))
    const clusterOptions: ClusterOptions = {
      lazyConnect,
      enableOfflineQueue,
      redisOptions: tls ? { ...redisOptions, tls: {} } : redisOptions,
      shardedSubscribers: subscriber,
      // A command to a master that died fails without asking where its slots went: the map is asked for again every second, so a failover is seen within one.
      slotsRefreshInterval: 1000,
      clusterRetryStrategy: (times) => Math.min(50 * times, 1000)
    }
    return new Cluster(servers.cluster.map((url) => {
      const { hostname, port, username, password } = new URL(url)
      return { host: hostname, port: Number(port === '' ? 6379 : port), ...(username === '' ? {} : { username }), ...(password === '' ? {} : { password: decodeURIComponent(password) }) }
    }), clusterOptions)
  }
  const single: RedisOptions = { ...options, ...redisOptions(servers.url), retryStrategy: (times) => Math.min(50 * times, 1000) }
  return new URL(servers.url).protocol === 'unix:' ? new Redis(single) : new Redis(servers.url, single)
}

/** ioredis takes redis:// and rediss:// itself; a socket is a path. */
export function redisOptions (url: string): RedisOptions & { path?: string } {
  const parsed = new URL(url)
  if (parsed.protocol !== 'unix:') return {}
  const db = parsed.searchParams.get('db')
  return { path: decodeURIComponent(parsed.pathname), ...(db === null ? {} : { db: Number(db) }) }
}

/** Any failure to talk to Redis is the same to a client: the store is unavailable. */
export async function unavailableOnError<T> (command: Promise<T>): Promise<T> {
  try {
    return await command
  } catch (error) {
    throw new BackendUnavailable((error as Error).message)
  }
}

export function ready (connection: Redis | Cluster, timeoutMs = CONNECT_MS): Promise<void> {
  if (connection.status === 'ready') return Promise.resolve()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      connection.off('ready', onReady)
      reject(new BackendUnavailable(`redis not reachable after ${timeoutMs / 1000} s`))
    }, timeoutMs)
    const onReady = () => {
      clearTimeout(timer)
      resolve()
    }
    connection.once('ready', onReady)
  })
}
