import { chainKeys } from '../chain/redis-backend.js'
import { unavailableOnError, type RedisLink } from '../chain/redis-link.js'
import type { FireRecord, SharedRegistry } from './fires.js'
import type { Scope } from './tokens.js'

/*
 * Keys, for LOGFIRE_REDIS_NAMESPACE `ns` (the public chain is `{ns}:*`):
 *   {ns:<id>}:fire             the fire's seed: while it exists, the fire is alight
 *   {ns:<id>}:head, :chain...  its chain (chain/redis-backend.ts)
 *   ns:token:<digest>          "<id> <scope> <seed> <ingest digest> <view digest> <admin digest>"
 *   ns:alight:<0-15>           sorted sets: the fires alight, scored by when each goes out
 * A fire's own keys share its hash tag, so its scripts run on one node. The
 * others have none: each hashes whole, so that in a cluster the tokens and
 * the sixteen parts of the fires' count spread over the nodes, and no key
 * is touched by every fire.
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

/**
 * KEYS: the fire's marker, then every other key of its chain. ARGV: ms it
 * stays alight from now. Only ever lengthens a key's life (a replica
 * letting go must not cut short another's use), and gives one to a key made
 * since the last touch. A fire whose marker has expired is gone: whatever
 * of its chain is left goes too. Returns 1 while alight, else 0.
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
 * A fire's keys sit in several slots (its own, its tokens', its part of the
 * count), so creating or touching one is several commands, not one script.
 * Each is safe alone: the marker is written first and is the fire's truth;
 * a token whose fire has gone out opens nothing; the count forgets what
 * has expired. Two replicas creating the last fires at the same moment may
 * both pass LOGFIRE_MAX_FIRES, by one each.
 */
export class RedisFireRegistry implements SharedRegistry {
  readonly #client: RedisLink['client']
  readonly #namespace: string

  constructor (link: RedisLink, namespace: string) {
    this.#namespace = namespace
    this.#client = link.client
    link.define('logfireFiresCount', COUNT, 1)
    link.define('logfireFiresAlight', ALIGHT, 1)
    link.define('logfireFireTouch', TOUCH)
  }

  async add (fire: FireRecord, maxFires: number, idleMs: number): Promise<boolean> {
    const scripts = this.#client as unknown as Scripts
    const counts = await unavailableOnError(Promise.all(Array.from({ length: ALIGHT_PARTS }, async (_, part) => await scripts.logfireFiresCount(this.#part(part)))))
    if (counts.reduce((sum, count) => sum + count, 0) >= maxFires) return false
    const marked = await unavailableOnError(this.#client.set(this.#marker(fire.id), fire.seed, 'PX', idleMs, 'NX'))
    if (marked !== 'OK') return false
    const value = (scope: Scope) => [fire.id, scope, fire.seed, ...SCOPES.map((s) => fire.digests[s])].join(' ')
    await unavailableOnError(Promise.all([
      ...SCOPES.map(async (scope) => await this.#client.set(this.#token(fire.digests[scope]), value(scope), 'PX', idleMs)),
      scripts.logfireFiresAlight(this.#partOf(fire.id), fire.id, String(idleMs), 'NX')
    ]))
    return true
  }

  async open (digest: string, idleMs: number): Promise<{ fire: FireRecord, scope: Scope } | undefined> {
    const value = await unavailableOnError(this.#client.get(this.#token(digest)))
    if (value === null) return undefined
    const [id, scope, seed, ingest, view, admin] = value.split(' ') as [string, Scope, string, string, string, string]
    const fire: FireRecord = { id, seed, digests: { ingest, view, admin } }
    return await this.touch(fire, idleMs) ? { fire, scope } : undefined
  }

  async touch (fire: FireRecord, ms: number): Promise<boolean> {
    const scripts = this.#client as unknown as Scripts
    const { head, chain, events, requests, shared } = chainKeys(fireNamespace(this.#namespace, fire.id))
    const keys = [this.#marker(fire.id), head, chain, events, requests, shared('settings'), shared('scenario')]
    const left = String(Math.max(1, Math.round(ms)))
    const alight = await unavailableOnError(scripts.logfireFireTouch(keys.length, ...keys, left)) === 1
    const tokens = SCOPES.map((scope) => this.#token(fire.digests[scope]))
    await unavailableOnError(Promise.all(alight
      ? [...tokens.map(async (token) => await this.#client.pexpire(token, left, 'GT')), scripts.logfireFiresAlight(this.#partOf(fire.id), fire.id, left, 'GT')]
      : [...tokens.map(async (token) => await this.#client.del(token)), this.#client.zrem(this.#partOf(fire.id), fire.id)]))
    return alight
  }

  #part (part: number): string { return `${this.#namespace}:alight:${part}` }
  #partOf (id: string): string { return this.#part((id.charCodeAt(0) + id.charCodeAt(id.length - 1)) % ALIGHT_PARTS) }
  #token (digest: string): string { return `${this.#namespace}:token:${digest}` }
  #marker (id: string): string { return `{${fireNamespace(this.#namespace, id)}}:fire` }
}
