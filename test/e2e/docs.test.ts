import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp } from '../helpers.js'
import { hasChromium, launchChromium, watchedPage } from './browser.js'

const title = hasChromium
  ? 'Swagger UI at /docs in Chromium'
  : 'Swagger UI at /docs in Chromium (skipped: no /usr/bin/chromium here; `apt-get install -y chromium` brings it, and .ci/run always does)'

describe.skipIf(!hasChromium)(title, () => {
  let browser: Browser
  beforeAll(async () => { browser = await launchChromium() })
  afterAll(async () => { await browser?.close() })

  it('renders every ingest route with no console errors and no CSP violations', async () => {
    const app = await buildTestApp()
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    const { page, problems, close } = await watchedPage(browser)
    try {
      await page.goto(`${base}/docs`)
      await page.locator('.opblock-summary-path', { hasText: '/loki/api/v1/push' }).waitFor({ timeout: 10_000 })
      const paths = await page.locator('.opblock-summary-path').allTextContents()
      expect(paths).toEqual(expect.arrayContaining(['/logs', '/services/collector/event', '/api/v2/logs']))
      await expect(page.title()).resolves.toBe('logfire.io API')
      expect(problems).toEqual([])
    } finally {
      await close()
      await app.close()
    }
  })
})
