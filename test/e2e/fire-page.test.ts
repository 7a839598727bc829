import { describe } from 'vitest'
import { it, type Defer } from '../defer.js'
import { appForTest, testConfig } from '../helpers.js'
import { hasChromium, watchedPage } from './browser.js'
import { chromiumPerBlock } from './chromium-block.js'

const title = hasChromium
  ? 'a fire\'s own page in Chromium'
  : 'a fire\'s own page in Chromium (skipped: no /usr/bin/chromium here; `apt-get install -y chromium` brings it, and .ci/run always does)'

describe.skipIf(!hasChromium)(title, () => {
  const browser = chromiumPerBlock()

  async function openInstance (defer: Defer) {
    const app = await appForTest(defer, { fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 } })
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    const watched = await watchedPage(browser())
    defer(watched.close)
    return { ...watched, base }
  }

  it('lights a new fire from the public page, shows its tokens once, and its page shows its lines and nobody else\'s', async ({ defer, expect }) => {
    const { page, base, problems } = await openInstance(defer)
    const requests: string[] = []
    page.on('request', (request) => { requests.push(request.url()) })
    await page.goto(base)
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 })
    await page.locator('#new-fire').click()
    await page.locator('#fire-made').waitFor({ state: 'visible', timeout: 5000 })
    const ingest = await page.locator('#fire-made-ingest').textContent() ?? ''
    expect(ingest).toMatch(/^lf_ing_/)
    await expect(page.locator('#fire-made-view').textContent()).resolves.toMatch(/^lf_view_/)
    await expect(page.locator('#fire-made-admin').textContent()).resolves.toMatch(/^lf_adm_/)
    await expect(page.locator('#fire-made-curl').textContent()).resolves.toContain(`Authorization: Bearer ${ingest}`)
    const pageUrl = await page.locator('#fire-made-page').getAttribute('href') ?? ''
    const id = /\/f\/([\w-]+)#/.exec(pageUrl)?.[1]

    await page.goto(pageUrl)
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 })
    await expect(page.locator('#fire-name').textContent()).resolves.toBe(`fire ${id}`)
    await fetch(`${base}/logs`, { method: 'POST', body: 'a line for the public fire' })
    await fetch(`${base}/logs`, { method: 'POST', body: 'a line for my own fire', headers: { authorization: `Bearer ${ingest}` } })
    await page.locator('#chain li', { hasText: 'a line for my own fire' }).waitFor({ timeout: 5000 })
    await expect(page.locator('#chain').textContent()).resolves.not.toContain('public fire')
    await expect(page.locator('#length').textContent()).resolves.toBe('2')
    // The view token stayed in the fragment: no request the page made carried it in its URL.
    const view = new URL(pageUrl).hash.slice(1)
    expect(requests.filter((url) => url.includes(view))).toEqual([])
    expect(problems).toEqual([])
  })
})
