// Renders docs/img/stage.png: the fire page at 1920x1080 with a lively chain,
// as the README shows it. Run with `npm run screenshot` (needs /usr/bin/chromium).
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { launchChromium, watchedPage } from '../test/e2e/browser.js'

const LINES = [
  'sshd[812]: Accepted publickey for deploy from 198.51.100.7 port 52144',
  '{"level":30,"msg":"payment accepted","orderId":"A-1042","amount":42}',
  'kernel: lp0 on fire',
  'nginx: upstream timed out (110: Connection timed out) while reading response header',
  'cron[411]: (root) CMD (/usr/local/bin/backup.sh)',
  '<img src=x onerror=alert(1)>',
  'app: user tom assumed role Administrator',
  'GET /healthz 200 0.4ms'
]

// The default chaos shows in the header; the lines themselves are sent with chaos off.
const app = await buildApp({ config: { ...loadConfig({}), rateLimit: 0, seed: 'stage' } })
// Port 3000 when it is free, so the page's curl hint reads as it will for a newcomer.
const base = await app.listen({ port: 3000, host: '127.0.0.1' }).catch(() => app.listen({ port: 0, host: '127.0.0.1' }))
const browser = await launchChromium()
const { page, problems } = await watchedPage(browser)
try {
  await page.goto(base)
  await page.locator('#connection[data-state="live"]').waitFor()
  for (const line of LINES) {
    await fetch(`${base}/logs`, { method: 'POST', body: line, headers: { 'x-logfire-chaos': 'off' } })
    await page.waitForTimeout(150)
  }
  await page.waitForTimeout(400)
  await page.screenshot({ path: 'docs/img/stage.png' })
  if (problems.length > 0) throw new Error(`the page reported problems: ${problems.join('; ')}`)
  console.log('wrote docs/img/stage.png')
} finally {
  await browser.close()
  await app.close()
}
