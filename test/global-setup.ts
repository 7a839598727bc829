import { execFileSync } from 'node:child_process'
import type { TestProject } from 'vitest/node'
import { hasRedis, privateRedis } from '../scripts/lib/redis-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The tests' own redis-server, or '' when redis-server is not installed. */
    redisUrl: string
  }
}

// The process tests run the built server, so every test run builds it first,
// whether it was started by `npm test` or by `npx vitest`. The Redis tests
// share one private redis-server, each in a namespace of its own.
export default async function setup (project: TestProject): Promise<() => Promise<void>> {
  // As `npm start` does: compiled only when a source changed since the last build.
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'inherit' })
  const redis = hasRedis ? await privateRedis() : undefined
  project.provide('redisUrl', redis?.url ?? '')
  return async () => { await redis?.remove() }
}
