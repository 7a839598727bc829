import { chainKeys } from '../chain/redis-backend.js'
import { unavailableOnError, type RedisLink } from '../chain/redis-link.js'
import type { FireRecord, SharedRegistry } from './fires.js'
import type { Scope } from './tokens.js'

/*
 * Keys, for LOGFIRE_REDIS_NAMESPACE `ns` (the public chain is `{ns}:*`):
 *   {ns:<id>}:fire             the fire's seed: while it exists, the fire is alight
 *   {ns:<id>}:token:<digest>   "<scope> <ingest digest> <view digest> <admin digest>"
 *   {ns:<id>}:head, :chain...  its chain (chain/redis-backend.ts)
 *   ns:alight:<0-15>           sorted sets: the fires alight, scored by when each goes out
 * Everything of a fire shares its hash tag, so that in a cluster a fire
 * lives on one node and its scripts run there whole; a token names its
 * fire, so finding it asks that node alone. The count has no tag: its
 * sixteen parts hash whole and spread over the nodes, so that no key is
 * touched by every fire.
 */

// The fires' count is kept in parts, so that no single key takes every fire's touches.
const ALIGHT_PARTS = 16

/** KEYS: one part of the count. Forgets the fires gone out; returns how many are left. */
const COUNT = `#!lua
local t = redis.call('TIME')
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
return redis.call('ZCARD', KEYS[1])
`

/** KEYS: one part of the count. ARGV: id, ms it stays alight from now, and NX (a new fire) or GT (a touch). */
const ALIGHT = `#!lua
local t = redis.call('TIME')
local out = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
if ARGV[3] == 'NX' then return redis.call('ZADD', KEYS[1], 'NX', out, ARGV[1]) end
return redis.call('ZADD', KEYS[1], 'XX', 'GT', out, ARGV[1])
`

/** KEYS: the fire's marker, its three tokens. ARGV: seed, ms alight, the three tokens' values. Returns 0 if the id is taken. */
const ADD = `#!lua
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') == false then return 0 end
for i = 2, 4 do redis.call('SET', KEYS[i], ARGV[i + 1], 'PX', ARGV[2]) end
return 1
`

/**
 * KEYS: the fire's marker, then every other key of the fire. ARGV: ms it
 * stays alight from now. Only ever lengthens a key's life (a replica
 * letting go must not cut short another's use), and gives one to a key made
 * since the last touch. A fire whose marker has expired is gone: whatever
 * of it is left goes too. Returns 1 while alight, else 0.
 */
const TOUCH = `#!lua
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
  return 0
end
local ttl = math.max(1, tonumber(ARGV[1]))
for i = 1, #KEYS do
  local left = redis.call('PTTL', KEYS[i])
  if left == -1 or (left >= 0 and left < ttl) then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`

interface Scripts {
  logfireFiresCount: (part: string) => Promise<number>
  logfireFiresAlight: (part: string, id: string, ms: string, mode: 'NX' | 'GT') => Promise<number>
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
 *
 * Creating a fire counts the fires alight over the count's parts first:
 * two replicas creating the last fires at the same moment may both pass
 * LOGFIRE_MAX_FIRES, by one each.
 */
export class RedisFireRegistry implements SharedRegistry {
  readonly #client: RedisLink['client']
  readonly #namespace: string

  constructor (link: RedisLink, namespace: string) {
    this.#namespace = namespace
    this.#client = link.client
    link.define('logfireFiresCount', COUNT, 1)
    link.define('logfireFiresAlight', ALIGHT, 1)
    link.define('logfireFireAdd', ADD, 4)
    link.define('logfireFireTouch', TOUCH)
  }

  async add (fire: FireRecord, maxFires: number, idleMs: number): Promise<boolean> {
    const scripts = this.#client as unknown as Scripts
    const counts = await unavailableOnError(Promise.all(Array.from({ length: ALIGHT_PARTS }, async (_, part) => await scripts.logfireFiresCount(this.#part(part)))))
    if (counts.reduce((sum, count) => sum + count, 0) >= maxFires) return false
    const value = (scope: Scope) => [scope, ...SCOPES.map((s) => fire.digests[s])].join(' ')
    const added = await unavailableOnError(scripts.logfireFireAdd(this.#marker(fire.id), ...SCOPES.map((scope) => this.#token(fire.id, fire.digests[scope])),
      fire.seed, String(idleMs), ...SCOPES.map(value)))
    if (added !== 1) return false
    await unavailableOnError(scripts.logfireFiresAlight(this.#partOf(fire.id), fire.id, String(idleMs), 'NX'))
    return true
  }

  async open (id: string, digest: string, idleMs: number): Promise<{ fire: FireRecord, scope: Scope } | undefined> {
    const [value, seed] = await unavailableOnError(this.#client.mget(this.#token(id, digest), this.#marker(id))) as [string | null, string | null]
    if (value === null || seed === null) return undefined
    const [scope, ingest, view, admin] = value.split(' ') as [Scope, string, string, string]
    const fire: FireRecord = { id, seed, digests: { ingest, view, admin } }
    return await this.touch(fire, idleMs) ? { fire, scope } : undefined
  }

  async touch (fire: FireRecord, ms: number): Promise<boolean> {
    const scripts = this.#client as unknown as Scripts
    const { head, chain, events, requests, shared } = chainKeys(fireNamespace(this.#namespace, fire.id))
    const keys = [this.#marker(fire.id), ...SCOPES.map((scope) => this.#token(fire.id, fire.digests[scope])), head, chain, events, requests, shared('settings'), shared('scenario')]
    const left = String(Math.max(1, Math.round(ms)))
    const alight = await unavailableOnError(scripts.logfireFireTouch(keys.length, ...keys, left)) === 1
    // The count's part may sit on a node that is down: the fire goes on, and
    // the next touch tries again. Meanwhile the count may forget a fire
    // alight, and let one more be created.
    await (alight ? scripts.logfireFiresAlight(this.#partOf(fire.id), fire.id, left, 'GT') : this.#client.zrem(this.#partOf(fire.id), fire.id)).catch(() => {})
    return alight
  }

  #part (part: number): string { return `${this.#namespace}:alight:${part}` }
  #partOf (id: string): string { return this.#part((id.charCodeAt(0) + id.charCodeAt(id.length - 1)) % ALIGHT_PARTS) }
  #token (id: string, digest: string): string { return `{${fireNamespace(this.#namespace, id)}}:token:${digest}` }
  #marker (id: string): string { return `{${fireNamespace(this.#namespace, id)}}:fire` }
}
