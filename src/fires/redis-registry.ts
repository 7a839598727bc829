import type { Redis } from 'ioredis'
import { chainKeys, ready, redisConnection, unavailableOnError } from '../chain/redis-backend.js'
import type { FireRecord, SharedRegistry } from './fires.js'
import type { Scope } from './tokens.js'

/*
 * Keys, for LOGFIRE_REDIS_NAMESPACE `ns` (the public chain is `{ns}:*`):
 *   {ns}:fires             sorted set: each fire alight, scored by when it goes out
 *   {ns}:token:<digest>    "<id> <scope> <seed> <ingest digest> <view digest> <admin digest>"
 *   {ns:<id>}:fire         the fire's seed: while it exists, the fire is alight
 *   {ns:<id>}:head, :chain, :events, :requests, :shared:*   its chain (chain/redis-backend.ts)
 * A fire's own keys share its hash tag. The registry's keys are the
 * public namespace's: one Redis serves both, and LOGFIRE_REDIS_CLUSTER will
 * have to move them (issue 31).
 */

/** KEYS: the fires, the fire's marker, its three tokens. ARGV: id, seed, idle ms, most fires, the three tokens' values. */
const ADD = `#!lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 0 end
local idle = tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], now + idle, ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'PX', idle)
for i = 3, 5 do redis.call('SET', KEYS[i], ARGV[i + 2], 'PX', idle) end
return 1
`

/**
 * KEYS: the fires, the fire's marker, then every other key of the fire.
 * ARGV: id, ms it stays alight from now. Only ever lengthens a key's life
 * (a replica letting go must not cut short another's use), and gives one to
 * a key made since the last touch. A fire whose marker has expired is gone:
 * whatever of it is left goes too. Returns 1 while alight, else 0.
 */
const TOUCH = `#!lua
local id = ARGV[1]
if redis.call('EXISTS', KEYS[2]) == 0 then
  for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
  redis.call('ZREM', KEYS[1], id)
  return 0
end
local ttl = math.max(1, tonumber(ARGV[2]))
for i = 2, #KEYS do
  local left = redis.call('PTTL', KEYS[i])
  if left == -1 or (left >= 0 and left < ttl) then redis.call('PEXPIRE', KEYS[i], ttl) end
end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], 'XX', 'GT', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl, id)
return 1
`

interface Scripts {
  logfireFireAdd: (...keysAndArgs: string[]) => Promise<number>
  logfireFireTouch: (keyCount: number, ...keysAndArgs: string[]) => Promise<number>
}

const SCOPES: readonly Scope[] = ['ingest', 'view', 'admin']

/** Where a created fire's chain lives: its own hash tag, next to the public chain's namespace. */
export function fireNamespace (namespace: string, id: string): string {
  return `${namespace}:${id}`
}

/**
 * The fires every replica shares, in Redis: created on one, found by their
 * tokens on any, gone out everywhere when Redis's TTL ends them. Keeps no
 * token, only its SHA-256, as the in-memory registry does.
 */
export class RedisFireRegistry implements SharedRegistry {
  readonly #client: Redis
  readonly #namespace: string

  private constructor (url: string, namespace: string) {
    this.#namespace = namespace
    this.#client = redisConnection(url)
    // Outages are reported by the chain's own connections, once.
    this.#client.on('error', () => {})
    this.#client.defineCommand('logfireFireAdd', { numberOfKeys: 5, lua: ADD })
    this.#client.defineCommand('logfireFireTouch', { lua: TOUCH })
  }

  static async connect (url: string, namespace: string): Promise<RedisFireRegistry> {
    const registry = new RedisFireRegistry(url, namespace)
    registry.#client.connect().catch(() => {})
    try {
      await ready(registry.#client)
    } catch (error) {
      registry.#client.disconnect()
      throw error
    }
    return registry
  }

  async add (fire: FireRecord, maxFires: number, idleMs: number): Promise<boolean> {
    const value = (scope: Scope) => [fire.id, scope, fire.seed, ...SCOPES.map((s) => fire.digests[s])].join(' ')
    const added = await unavailableOnError((this.#client as unknown as Scripts).logfireFireAdd(
      this.#fires(), this.#marker(fire.id), ...SCOPES.map((scope) => this.#token(fire.digests[scope])),
      fire.id, fire.seed, String(idleMs), String(maxFires), ...SCOPES.map(value)))
    return added === 1
  }

  async open (digest: string, idleMs: number): Promise<{ fire: FireRecord, scope: Scope } | undefined> {
    const value = await unavailableOnError(this.#client.get(this.#token(digest)))
    if (value === null) return undefined
    const [id, scope, seed, ingest, view, admin] = value.split(' ') as [string, Scope, string, string, string, string]
    const fire: FireRecord = { id, seed, digests: { ingest, view, admin } }
    return await this.touch(fire, idleMs) ? { fire, scope } : undefined
  }

  async touch (fire: FireRecord, ms: number): Promise<boolean> {
    const { head, chain, events, requests, shared } = chainKeys(fireNamespace(this.#namespace, fire.id))
    const keys = [this.#fires(), this.#marker(fire.id), ...SCOPES.map((scope) => this.#token(fire.digests[scope])),
      head, chain, events, requests, shared('settings'), shared('scenario')]
    const alight = await unavailableOnError((this.#client as unknown as Scripts).logfireFireTouch(keys.length, ...keys, fire.id, String(Math.round(ms))))
    return alight === 1
  }

  async close (): Promise<void> {
    await this.#client.quit().catch(() => { this.#client.disconnect() })
  }

  #fires (): string { return `{${this.#namespace}}:fires` }
  #token (digest: string): string { return `{${this.#namespace}}:token:${digest}` }
  #marker (id: string): string { return `{${fireNamespace(this.#namespace, id)}}:fire` }
}
