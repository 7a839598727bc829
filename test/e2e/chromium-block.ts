import type { Browser } from 'playwright-core'
import { afterAll, beforeAll } from 'vitest'
import { launchChromium } from './browser.js'

/**
 * For a describe block: one Chromium for all its tests. Each test opens its
 * own context (watchedPage) and closes it with its `defer` (test/defer.ts).
 * Not concurrently: five pages at once saved 4 s of a run and starved the
 * Redis Cluster test's failover timing running beside it.
 */
export function chromiumPerBlock (): () => Browser {
  let launched: Browser | undefined
  beforeAll(async () => { launched = await launchChromium() })
  afterAll(async () => { await launched?.close() })
  return () => launched as Browser
}
