import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Page } from 'playwright-core'
import { describe } from 'vitest'
import { loadConfig } from '../../src/config.js'
import { it, type Defer } from '../defer.js'
import { appForTest } from '../helpers.js'
import { rawClient, startListening, syslogLine } from '../listeners/listening.js'
import { NaivechainNode } from '../peers/naivechain-node.js'
import { openStream } from '../sse-client.js'
import { hasChromium, watchedPage } from './browser.js'
import { chromiumPerBlock } from './chromium-block.js'

const title = hasChromium
  ? 'the fire page in Chromium'
  : 'the fire page in Chromium (skipped: no /usr/bin/chromium here; `apt-get install -y chromium` brings it, and .ci/run always does)'

/**
 * Visible text under 4.5:1 against the nearest ancestor with a solid
 * background (the page's own, #0d0b0a, when none has one), as WCAG computes
 * it. Runs in the page.
 */
function lowContrastText (): string[] {
  const channels = (color: string): number[] => (color.match(/[\d.]+/g) ?? []).map(Number)
  const luminance = ([r, g, b]: number[]): number => {
    const linear = (c: number) => { const s = c / 255; return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4 }
    return 0.2126 * linear(r ?? 0) + 0.7152 * linear(g ?? 0) + 0.0722 * linear(b ?? 0)
  }
  const background = (element: Element | null): number[] => {
    for (let at = element; at !== null; at = at.parentElement) {
      const [r, g, b, a] = channels(getComputedStyle(at).backgroundColor)
      if (a === undefined || a >= 0.9) {
        if (!(r === 0 && g === 0 && b === 0 && a === 0)) return [r ?? 0, g ?? 0, b ?? 0]
      }
    }
    return [13, 11, 10]
  }
  const low: string[] = []
  for (const element of document.querySelectorAll('body *')) {
    const own = [...element.childNodes].some((node) => node.nodeType === Node.TEXT_NODE && (node.textContent ?? '').trim() !== '')
    const box = element.getBoundingClientRect()
    const style = getComputedStyle(element)
    if (!own || box.width === 0 || box.height === 0 || style.visibility === 'hidden' || Number(style.opacity) === 0) continue
    if ((element as HTMLElement).closest('[hidden]') !== null) continue
    const [l1, l2] = [luminance(channels(style.color)), luminance(background(element))].sort((a, b) => b - a) as [number, number]
    const ratio = (l1 + 0.05) / (l2 + 0.05)
    if (ratio < 4.5) low.push(`${element.tagName.toLowerCase()}${element.id === '' ? '' : '#' + element.id}.${[...element.classList].join('.')} "${(element.textContent ?? '').trim().slice(0, 30)}" ${ratio.toFixed(2)}:1`)
  }
  return low
}

describe.skipIf(!hasChromium)(title, () => {
  const browser = chromiumPerBlock()

  async function stage (defer: Defer, overrides: Parameters<typeof appForTest>[1] = {}, options: { reducedMotion?: 'reduce', beforeLoad?: (page: Page) => Promise<unknown> } = {}) {
    const app = await appForTest(defer, overrides)
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    const watched = await watchedPage(browser(), options)
    defer(watched.close)
    await options.beforeLoad?.(watched.page)
    await watched.page.goto(base)
    await watched.page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 })
    const send = (method: string, path: string, init: { body?: string, headers?: Record<string, string> } = {}) =>
      fetch(`${base}${path}`, { method, ...init })
    return { ...watched, base, send }
  }

  it('loads with no console errors and no CSP violations', async ({ defer, expect }) => {
    const { page, problems } = await stage(defer)
    await expect(page.locator('h1').textContent()).resolves.toBe('logfire.io')
    await expect(page.locator('#empty').isVisible()).resolves.toBe(true)
    await page.waitForTimeout(300)
    expect(problems).toEqual([])
  })

  it('shows a POSTed line live, and the chain length and head', async ({ defer, expect }) => {
    const { page, send, problems } = await stage(defer)
    const response = await send('POST', '/logs', { body: 'deploy finished in 42s' })
    const { blocks } = await response.json()
    await page.locator('.block-data', { hasText: 'deploy finished in 42s' }).waitFor({ timeout: 5000 })
    await expect(page.locator('#length').textContent()).resolves.toBe('2')
    await expect(page.locator('#head').getAttribute('title')).resolves.toBe(blocks[0].hash)
    expect(problems).toEqual([])
  })

  it('burns: the visible chain goes up in flames and the view empties', async ({ defer, expect }) => {
    const { page, send } = await stage(defer, { adminToken: 't' })
    await send('POST', '/logs', { body: 'one\ntwo\nthree' })
    await page.locator('.block').nth(2).waitFor({ timeout: 5000 })
    await send('DELETE', '/logs', { headers: { authorization: 'Bearer t' } })
    await page.locator('.block.incinerate').first().waitFor({ timeout: 5000 })
    await page.locator('#ashes').waitFor({ state: 'visible', timeout: 3000 })
    await expect(page.locator('#ashes-detail').textContent()).resolves.toBe('3 blocks lost (admin)')
    await expect(page.locator('.block').count()).resolves.toBe(0)
    await expect(page.locator('#length').textContent()).resolves.toBe('1')
  })

  it('stamps GDPR on a 451 and sets the printer on fire on a 503', async ({ defer, expect }) => {
    const { page, send } = await stage(defer)
    await send('POST', '/logs', { body: 'a customer in the United Kingdom' })
    await page.locator('#stamp').waitFor({ state: 'visible', timeout: 5000 })
    await expect(page.locator('#stamp-detail').textContent()).resolves.toContain('United Kingdom')

    await send('GET', '/logs', { headers: { 'x-logfire-chaos': 'fire' } })
    await page.locator('#printer').waitFor({ state: 'visible', timeout: 5000 })
    await expect(page.locator('.printer-title').textContent()).resolves.toBe('lp0 on fire')
  })

  it('shows a fault below the status line as the network failing, not the printer', async ({ defer, expect }) => {
    const { page, send, problems } = await stage(defer)
    await send('POST', '/logs', { body: 'hung up on', headers: { 'x-logfire-chaos': 'close' } }).catch(() => {})
    await page.locator('#fault').waitFor({ state: 'visible', timeout: 5000 })
    await expect(page.locator('#fault').getAttribute('data-fault')).resolves.toBe('close')
    await expect(page.locator('#fault-title').textContent()).resolves.toBe('hung up')
    await expect(page.locator('#fault-detail').textContent()).resolves.toMatch(/^request #\d+: no answer at all/)
    await expect(page.locator('#printer').isHidden()).resolves.toBe(true)

    await send('POST', '/logs', { body: 'garbled', headers: { 'x-logfire-chaos': 'garbage' } }).catch(() => {})
    await page.waitForFunction(() => document.getElementById('fault')?.dataset.fault === 'garbage', undefined, { timeout: 5000 })
    await expect(page.locator('#fault-title').textContent()).resolves.toContain('200')
    expect(problems).toEqual([])
  })

  it('shows each canary run being delivered: green when clean, red when lines went missing', async ({ defer, expect }) => {
    const { page, send, problems } = await stage(defer)
    const line = (run: string, seq: number) => `logfire-canary run=${run} seq=${seq} sent=${Date.now()}`
    await send('POST', '/logs', { body: [1, 2, 3].map((seq) => line('clean-run', seq)).join('\n') })
    await send('POST', '/logs', { body: [1, 3].map((seq) => line('leaky-run', seq)).join('\n') })
    await page.locator('#runs .run').nth(1).waitFor({ timeout: 5000 })
    await expect(page.locator('.run[data-health="clean"] .run-id').textContent()).resolves.toBe('clean-run')
    await expect(page.locator('.run[data-health="lost"] .run-missing').textContent()).resolves.toBe('1 missing')
    expect(problems).toEqual([])
  })

  it('shows the naivechain peers, and after a burn how many still remember the burnt chain', async ({ defer, expect }) => {
    const app = await appForTest(defer, { adminToken: 'admin', p2p: loadConfig({ LOGFIRE_P2P_PORT: '6001' }).p2p }, { clock: Date.now })
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    const port = await app.peers!.listen(0, '127.0.0.1')
    const node = new NaivechainNode()
    defer(() => node.close())
    const watched = await watchedPage(browser())
    defer(watched.close)
    await fetch(`${base}/logs`, { method: 'POST', body: 'one\ntwo', headers: { 'x-logfire-chaos': 'off' } })
    await node.connect(`ws://127.0.0.1:${port}`)
    await watched.page.goto(base)
    await watched.page.locator('#peers-count', { hasText: '1 peer connected' }).waitFor({ timeout: 5000 })
    await expect(watched.page.locator('#peers-remembering').isVisible()).resolves.toBe(false)
    await fetch(`${base}/logs`, { method: 'DELETE', headers: { authorization: 'Bearer admin' } })
    await watched.page.locator('#peers-remembering', { hasText: '1 still remembers the burnt chain' }).waitFor({ timeout: 5000 })
    expect(watched.problems).toEqual([])
  })

  it('shows the stream connections: what each stored and refused, and how a cut one ended', async ({ defer, expect }) => {
    const l = await startListening()
    defer(l.close)
    const base = await l.app.listen({ port: 0, host: '127.0.0.1' })
    const watched = await watchedPage(browser())
    defer(watched.close)
    await watched.page.goto(base)
    await l.scenario([{ messages: 2 }, { messages: 1, chaos: 'fire' }, { messages: 1, chaos: 'reset' }])
    const client = await rawClient(l.tcp)
    await client.write(['one', 'two', 'three', 'four', 'five'].map(syslogLine).join(''))
    await watched.page.locator('#streams .run', { hasText: 'ended: reset' }).waitFor({ timeout: 5000 })
    await expect(watched.page.locator('#streams .run-count').first().textContent()).resolves.toBe('2 stored')
    await expect(watched.page.locator('#streams .run-duplicates').textContent()).resolves.toBe('1 refused')
    await expect(watched.page.locator('#streams .run').getAttribute('data-health')).resolves.toBe('lost')
    expect(watched.problems).toEqual([])
  })

  it('shows the running scenario and its step, and hides it when the scenario ends', async ({ defer, expect }) => {
    const { page, send, problems } = await stage(defer, { adminToken: 'admin' })
    await send('PUT', '/admin/scenario', { body: JSON.stringify({ name: 'flaky', steps: [{ requests: 2, chaos: 'fire' }] }), headers: { authorization: 'Bearer admin', 'content-type': 'application/json' } })
    await page.locator('#scenario-step', { hasText: 'flaky 1/1: fire: 2 requests' }).waitFor({ timeout: 5000 })
    await send('POST', '/logs', { body: 'one' })
    await send('POST', '/logs', { body: 'two' })
    await page.locator('#scenario').waitFor({ state: 'hidden', timeout: 5000 })
    expect(problems.filter((problem) => !problem.includes('503'))).toEqual([])
  })

  it('keeps a scenario the stream announced while the page still waited for the service: the older answer does not hide it', async ({ defer, expect }) => {
    // The page's read of the service is answered as it was before the
    // scenario began, but only once the scenario's event has been shown: what
    // a loaded machine did to this page now and then.
    let release = () => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    const holdTheServiceRead = async (page: Page) => await page.route((url) => url.pathname === '/', async (route) => {
      if (route.request().headers().accept !== 'application/json') return await route.continue()
      const before = await route.fetch()
      await released
      await route.fulfill({ response: before })
    })
    const { page, send, problems } = await stage(defer, { adminToken: 'admin' }, { beforeLoad: holdTheServiceRead })
    await send('PUT', '/admin/scenario', { body: JSON.stringify({ name: 'flaky', steps: [{ requests: 2, chaos: 'fire' }] }), headers: { authorization: 'Bearer admin', 'content-type': 'application/json' } })
    await page.locator('#scenario-step', { hasText: 'flaky 1/1' }).waitFor({ timeout: 5000 })
    release()
    // The service's answer applied: it shows the stage controls' button.
    await page.locator('#admin-open').waitFor({ timeout: 5000 })
    await expect(page.locator('#scenario').isVisible()).resolves.toBe(true)
    expect(problems).toEqual([])
  })

  it('shows an alert banner when a rule fires on a posted record', async ({ defer, expect }) => {
    const { page, send, problems } = await stage(defer)
    const record = { userIdentity: { type: 'Root' }, eventName: 'CreateBucket', eventType: 'AwsApiCall', sourceIPAddress: '198.51.100.7' }
    await send('POST', '/logs', { body: JSON.stringify(record), headers: { 'content-type': 'application/json' } })
    await page.locator('#alert-banner').waitFor({ state: 'visible', timeout: 5000 })
    await expect(page.locator('#alert-rule').textContent()).resolves.toBe('cis-4.3-root-account-usage')
    await expect(page.locator('#alert-description').textContent()).resolves.toBe('Root account used: CreateBucket from 198.51.100.7')
    await expect(page.locator('#alert-banner').getAttribute('data-severity')).resolves.toBe('critical')
    expect(problems).toEqual([])
  })

  it('shows hostile log lines as text and never runs them', async ({ defer, expect }) => {
    const { page, send, problems } = await stage(defer)
    const hostile = [
      '<img src=x onerror=alert(1)>',
      '<script>window.pwned = true; alert(2)</script>',
      '"><svg onload=alert(3)>',
      '<a href="javascript:alert(4)">click</a>'
    ]
    await send('POST', '/logs', { body: JSON.stringify(hostile), headers: { 'content-type': 'application/json' } })
    await page.locator('.block').nth(3).waitFor({ timeout: 5000 })
    const shown = await page.locator('.block-data').allTextContents()
    expect(shown.slice().reverse()).toEqual(hostile)
    await expect(page.locator('#chain img, #chain script, #chain svg, #chain a').count()).resolves.toBe(0)
    await expect(page.evaluate(() => (window as unknown as { pwned?: boolean }).pwned)).resolves.toBeUndefined()
    await page.waitForTimeout(300)
    expect(problems).toEqual([])
  })

  it('has no stage controls when no admin token is configured', async ({ defer, expect }) => {
    const { page } = await stage(defer, { adminToken: undefined })
    await page.waitForTimeout(300)
    await expect(page.locator('#admin-open').isVisible()).resolves.toBe(false)
    await expect(page.locator('#burn-now').isVisible()).resolves.toBe(false)
  })

  it('unlocks the stage controls with the right token only, and they work', async ({ defer, expect }) => {
    const { page, send, base, problems } = await stage(defer, { adminToken: 'stage-secret' })
    await page.locator('#admin-open').click()
    await expect(page.locator('#burn-now').isVisible()).resolves.toBe(false)

    await page.locator('#admin-token').fill('wrong')
    await page.locator('#admin-login button[type=submit]').click()
    await page.locator('#admin-error', { hasText: 'Wrong token.' }).waitFor({ timeout: 5000 })
    await expect(page.locator('#burn-now').isVisible()).resolves.toBe(false)

    await page.locator('#admin-token').fill('stage-secret')
    await page.locator('#admin-login button[type=submit]').click()
    await page.locator('#burn-now').waitFor({ state: 'visible', timeout: 5000 })

    await send('POST', '/logs', { body: 'about to burn' })
    await page.locator('.block').first().waitFor({ timeout: 5000 })
    await page.locator('#burn-now').click()
    await page.locator('#ashes').waitFor({ state: 'visible', timeout: 3000 })

    await page.locator('#fire-rate-input').fill('1')
    await page.locator('#gdpr-input').uncheck()
    await page.locator('#fire-rate', { hasText: '100%' }).waitFor({ timeout: 5000 })
    await page.locator('#gdpr', { hasText: 'off' }).waitFor({ timeout: 5000 })
    const service = await (await fetch(base, { headers: { accept: 'application/json' } })).json()
    expect(service.chaos).toMatchObject({ fireRate: 1, gdpr: false })
    expect(problems.filter((problem) => !problem.includes('401'))).toEqual([])
  })

  it('presenter keys: ? shows the help, f sets the next request on fire, g toggles GDPR, p pauses the chaos, b burns, l and ?big give large type', async ({ defer, expect }) => {
    const { page, send, base, problems } = await stage(defer, { adminToken: 'stage-secret', fireRate: 0.5 })
    const chaos = async () => (await (await fetch(`${base}/admin/chaos`, { headers: { authorization: 'Bearer stage-secret' } })).json())
    await page.keyboard.press('?')
    await page.locator('#keys').waitFor({ state: 'visible', timeout: 5000 })
    await expect(page.locator('#keys-locked').isVisible()).resolves.toBe(true)
    await page.keyboard.press('Escape')
    // Locked: the keys that change the chaos do nothing.
    await page.keyboard.press('g')
    await page.waitForTimeout(200)
    expect((await chaos()).gdpr).toBe(true)

    await page.locator('#admin-open').click()
    await page.locator('#admin-token').fill('stage-secret')
    await page.locator('#admin-login button[type=submit]').click()
    await page.locator('#burn-now').waitFor({ state: 'visible', timeout: 5000 })
    await page.locator('#burn-now').focus()

    await page.keyboard.press('g')
    await page.locator('#gdpr', { hasText: 'off' }).waitFor({ timeout: 5000 })
    await page.keyboard.press('p')
    await page.locator('#scenario-step', { hasText: 'paused 1/1' }).waitFor({ timeout: 5000 })
    expect(await chaos()).toMatchObject({ fireRate: 0, burnRate: 0 })
    await page.keyboard.press('p')
    await page.locator('#scenario').waitFor({ state: 'hidden', timeout: 5000 })
    expect((await chaos()).fireRate).toBe(0.5)

    await page.keyboard.press('f')
    await page.locator('#scenario-step', { hasText: 'next on fire' }).waitFor({ timeout: 5000 })
    expect((await send('POST', '/logs', { body: 'into the fire', headers: { 'x-logfire-chaos': 'off' } })).status).toBe(200)
    expect((await send('POST', '/logs', { body: 'into the fire' })).status).toBe(503)

    await page.keyboard.press('b')
    await page.locator('#ashes').waitFor({ state: 'visible', timeout: 3000 })

    await page.keyboard.press('l')
    await expect(page.evaluate(() => document.documentElement.classList.contains('big'))).resolves.toBe(true)
    await page.goto(`${base}/?big`)
    await expect(page.evaluate(() => document.documentElement.classList.contains('big'))).resolves.toBe(true)
    expect(problems.filter((problem) => !problem.includes('503'))).toEqual([])
  })

  it('passes axe-core (WCAG 2 A and AA) with no serious or critical violation, and every visible text at 4.5:1, in every state: live, burned, alert, fault, help, large type', async ({ defer, expect }) => {
    const { page, send, base } = await stage(defer, { adminToken: 'admin' })
    const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
    const audit = async (state: string) => {
      // A state is audited once it has settled: a block igniting flashes for
      // 1.6 s on purpose. Its animations are run to their end, not waited for.
      await page.evaluate(async () => {
        const settling = document.getAnimations().filter((animation) => animation.effect?.getComputedTiming().iterations !== Infinity)
        for (const animation of settling) animation.finish()
        await Promise.all(settling.map(async (animation) => await animation.finished.catch(() => {})))
        // Two frames more: what the page does at an animation's end (animationend) is done.
        for (let frame = 0; frame < 2; frame++) await new Promise((resolve) => requestAnimationFrame(resolve))
      })
      // Once a page: the audits of one page share it.
      if (await page.evaluate(() => !('axe' in globalThis))) await page.evaluate(axeSource)
      // Only the violations are read, so only they are detailed.
      const results = await page.evaluate(async () => await (globalThis as unknown as { axe: { run: (context: unknown, options: unknown) => Promise<{ violations: Array<{ id: string, impact: string, nodes: Array<{ target: string[] }> }> }> } })
        .axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa'], resultTypes: ['violations'] }))
      const serious = results.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      expect(serious.map((violation) => `${state}: ${violation.id} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`)).toEqual([])
      // axe leaves text on gradients as "needs review": every visible text is
      // measured here too, against the nearest solid background, at 4.5:1.
      expect((await page.evaluate(lowContrastText)).map((text) => `${state}: ${text}`)).toEqual([])
    }
    await send('POST', '/logs', { body: 'a line for the grid' })
    await page.locator('.block').first().waitFor({ timeout: 5000 })
    await audit('live grid')
    await send('DELETE', '/logs', { headers: { authorization: 'Bearer admin' } })
    await page.locator('#ashes').waitFor({ state: 'visible', timeout: 3000 })
    await audit('burned')
    await send('POST', '/logs', { body: JSON.stringify({ userIdentity: { type: 'Root' }, eventName: 'CreateBucket', eventType: 'AwsApiCall', sourceIPAddress: '198.51.100.7' }), headers: { 'content-type': 'application/json' } })
    await page.locator('#alert-banner').waitFor({ state: 'visible', timeout: 5000 })
    await audit('alert banner')
    await send('POST', '/logs', { body: 'hung up on', headers: { 'x-logfire-chaos': 'close' } }).catch(() => {})
    await page.locator('#fault').waitFor({ state: 'visible', timeout: 5000 })
    await audit('fault')
    await page.keyboard.press('?')
    await page.locator('#keys').waitFor({ state: 'visible', timeout: 5000 })
    await audit('presenter keys')
    await page.goto(`${base}/?big`)
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 })
    await audit('large type')
  })

  it('comes back by itself when the stream was full, and shows what it missed', async ({ defer, expect }) => {
    const app = await appForTest(defer, { memory: { ...loadConfig({}).memory, maxStreamClients: 1 } })
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    // Someone else holds the only seat: the page's stream is refused (503).
    const other = openStream(`${base}/logs/stream`)
    defer(async () => { other.close() })
    await other.connected()
    const { page, close } = await watchedPage(browser())
    defer(close)
    await page.goto(base)
    await page.locator('#connection[data-state="connecting"]').waitFor({ timeout: 3000 })
    await fetch(`${base}/logs`, { method: 'POST', body: 'posted while the page waited' })

    other.close()
    await page.locator('#connection[data-state="live"]').waitFor({ timeout: 5000 })
    await page.locator('.block-data', { hasText: 'posted while the page waited' }).waitFor({ timeout: 5000 })
  })

  it('respects prefers-reduced-motion', async ({ defer, expect }) => {
    const { page, send } = await stage(defer, {}, { reducedMotion: 'reduce' })
    await send('POST', '/logs', { body: 'calm' })
    const block = page.locator('.block').first()
    await block.waitFor({ timeout: 5000 })
    await expect(block.evaluate((node) => getComputedStyle(node).animationName)).resolves.toBe('none')
  })
})
