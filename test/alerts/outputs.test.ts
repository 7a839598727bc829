import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import type { Alert } from '../../src/alerts/engine.js'
import { loadRules } from '../../src/alerts/load.js'
import { postJson } from '../../src/alerts/outputs/delivery.js'
import { pagerDutyEvent, slackMessage } from '../../src/alerts/outputs/payloads.js'
import { sender } from '../../src/alerts/outputs/senders.js'

const FAST = { timeoutMs: 300, attempts: 5, backoffMs: 5, random: () => 0.5 }
const alert: Alert = {
  id: 7,
  rule: 'cis-4.3-root-account-usage',
  severity: 'critical',
  description: 'Root used from <198.51.100.7> & friends',
  time: 1_700_000_000_000,
  block: { epoch: 2, index: 41 },
  count: 1,
  digest: false
}

// A fake receiver on 127.0.0.1 that answers with the statuses it is given, in turn.
const servers: Server[] = []
// Connections cut first: a hung one would hold close() until the sender's socket times out.
afterEach(async () => { await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => { s.close(resolve); s.closeAllConnections() }))) })
async function receiver (...statuses: Array<number | 'hang'>) {
  const received: Array<{ headers: IncomingHttpHeaders, body: string }> = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => {
      received.push({ headers: req.headers, body })
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)] ?? 200
      if (status === 'hang') return
      res.writeHead(status).end(status === 200 ? 'ok' : 'nope')
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/hook`, received }
}

describe('alert payloads', () => {
  it('builds a Slack message within its limits, with the text escaped for mrkdwn', () => {
    const message = slackMessage({ ...alert, description: 'x'.repeat(5000) }, 'x'.repeat(5000))
    expect(message.blocks).toHaveLength(3)
    expect((message.blocks[0] as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(150)
    expect((message.blocks[1] as { text: { text: string } }).text.text.length).toBeLessThanOrEqual(3000)
    expect(message.text.length).toBeLessThanOrEqual(3000)
    expect((slackMessage(alert, alert.description).blocks[1] as { text: { text: string } }).text.text).toBe('Root used from &lt;198.51.100.7&gt; &amp; friends')
  })

  it('builds a PagerDuty trigger with a stable dedup key and a mapped severity', () => {
    const event = pagerDutyEvent(alert, alert.description, 'R0UTING')
    expect(event).toMatchObject({
      routing_key: 'R0UTING',
      event_action: 'trigger',
      dedup_key: 'logfire:cis-4.3-root-account-usage:2-41',
      payload: { summary: alert.description, source: 'logfire.io', severity: 'critical', timestamp: '2023-11-14T22:13:20.000Z' }
    })
    expect(pagerDutyEvent({ ...alert, severity: 'medium' }, 'x', 'k').payload.severity).toBe('warning')
    expect(pagerDutyEvent(alert, 'y'.repeat(2000), 'k').payload.summary.length).toBeLessThanOrEqual(1024)
  })
})

describe('alert delivery', () => {
  it('retries network failures, 429 and 5xx with backoff, up to five attempts', async () => {
    const hook = await receiver(503, 429, 200)
    expect(await postJson(hook.url, '{}', {}, FAST)).toEqual({ ok: true, attempts: 3, status: 200 })
    const failing = await receiver(500)
    expect(await postJson(failing.url, '{}', {}, FAST)).toEqual({ ok: false, attempts: 5, status: 500 })
    expect(failing.received).toHaveLength(5)
  })

  it('does not retry other client errors', async () => {
    const hook = await receiver(400)
    expect(await postJson(hook.url, '{}', {}, FAST)).toEqual({ ok: false, attempts: 1, status: 400 })
  })

  it('gives up on a receiver that never answers, after its timeout per attempt', async () => {
    const hook = await receiver('hang')
    const delivery = await postJson(hook.url, '{}', {}, { ...FAST, attempts: 2 })
    expect(delivery).toEqual({ ok: false, attempts: 2, error: 'timeout' })
  })

  it('signs webhooks per Standard Webhooks, with an id that stays the same across retries', async () => {
    const secret = 'whsec_' + Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')
    const hook = await receiver(503, 200)
    const delivery = await sender({ type: 'webhook', url: hook.url, secret }, FAST)(alert)
    expect(delivery.ok).toBe(true)
    const [first, second] = hook.received as [typeof hook.received[0], typeof hook.received[0]]
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id'])
    const verified = new Webhook(secret).verify(second.body, second.headers as Record<string, string>)
    expect(verified).toMatchObject({ type: 'logfire.alert', data: { rule: alert.rule, description: alert.description } })
  })

  it('posts Slack and PagerDuty payloads to their receivers', async () => {
    const slack = await receiver(200)
    const pagerduty = await receiver(202)
    expect((await sender({ type: 'slack', url: slack.url }, FAST)(alert)).ok).toBe(true)
    expect(JSON.parse(slack.received[0]?.body as string).blocks).toHaveLength(3)
    expect((await sender({ type: 'pagerduty', url: pagerduty.url, routingKey: 'k' }, FAST)(alert)).ok).toBe(true)
    expect(JSON.parse(pagerduty.received[0]?.body as string)).toMatchObject({ routing_key: 'k', event_action: 'trigger' })
  })
})

describe('outputs in a rules file', () => {
  const file = (outputs: string) => `outputs:\n${outputs}rules:\n  - { name: r, description: d, pattern: ERROR, severity: low, outputs: [log, team] }\n`

  it('fills secrets from the environment', () => {
    const loaded = loadRules(file('  team: { type: slack, url: "${SLACK_URL}" }\n'), 'rules.yaml', { SLACK_URL: 'https://hooks.slack.com/services/T/B/x' })
    expect(loaded.outputs).toEqual({ team: { type: 'slack', url: 'https://hooks.slack.com/services/T/B/x' } })
  })

  it.each([
    ['a secret written into the file', '  team: { type: slack, url: "https://hooks.slack.com/services/T/B/x" }\n', {}, 'output "team": url: must be a ${VARIABLE}'],
    ['a variable that is not set', '  team: { type: pagerduty, routingKey: "${PD_KEY}" }\n', {}, 'output "team": routingKey: the environment variable PD_KEY is not set'],
    ['an unknown type', '  team: { type: carrier-pigeon }\n', {}, 'output "team": type:'],
    ['a URL that is not http', '  team: { type: slack, url: "${SLACK_URL}" }\n', { SLACK_URL: 'file:///etc/passwd' }, 'output "team": url: must be an http or https URL']
  ])('refuses %s, naming the output', (_what, outputs, env, message) => {
    expect(() => loadRules(file(outputs), 'rules.yaml', env)).toThrow(message)
  })
})
