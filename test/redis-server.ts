import { hasRedis } from '../scripts/lib/redis-server.js'

export { privateRedis } from '../scripts/lib/redis-server.js'

/** Appended to the title of a suite that needs Redis; empty when redis-server is installed. */
export const redisMissing = hasRedis ? '' : ' (skipped: Debian package redis-server missing; .ci/run installs it)'
