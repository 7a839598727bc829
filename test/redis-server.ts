import type { ChainLimits } from '../src/chain/budget.js'
import { RedisBackend } from '../src/chain/redis-backend.js'
import { RedisLink, type RedisLinkOptions } from '../src/chain/redis-link.js'
import type { ChainStore } from '../src/chain/store.js'
import { hasRedis } from '../scripts/lib/redis-server.js'

export { privateRedis } from '../scripts/lib/redis-server.js'

/** Appended to the title of a suite that needs Redis; empty when redis-server is installed. */
export const redisMissing = hasRedis ? '' : ' (skipped: Debian package redis-server missing; .ci/run installs it)'

/** A chain in Redis as one replica holds it: its own connections (a RedisLink), closed with the chain. */
export async function redisBackend (options: { url: string, namespace: string, store: ChainStore, limits: ChainLimits, log?: RedisLinkOptions['log'] }): Promise<RedisBackend> {
  const link = await RedisLink.connect({ servers: { url: options.url }, log: options.log ?? (() => {}) })
  const backend = await RedisBackend.connect({ link, namespace: options.namespace, store: options.store, limits: options.limits })
  const close = backend.close.bind(backend)
  backend.close = async () => {
    await close()
    await link.close()
  }
  return backend
}
