import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { launchChromium } from './browser.js'

/**
 * For a describe block: one Chromium for all its tests, and cleanups (apps,
 * pages) each test pushes, run after it, last first.
 */
export function chromiumPerBlock () {
  let launched: Browser | undefined
  const cleanups: Array<() => Promise<unknown>> = []
  beforeAll(async () => { launched = await launchChromium() })
  afterAll(async () => { await launched?.close() })
  afterEach(async () => { for (const cleanup of cleanups.splice(0).reverse()) await cleanup() })
  return { browser: () => launched as Browser, cleanups }
}
