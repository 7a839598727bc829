import { createServer } from 'node:http'
import { Writable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { loadRules } from '../../src/alerts/load.js'
import { fakeKasa } from '../balloon/fake-plugs.js'
import { appsClosedAfterEach, captureLogs, post, type TestApp } from '../helpers.js'
import { openStream } from '../sse-client.js'

const start = appsClosedAfterEach()
const admin = { authorization: 'Bearer admin' }
const rootRecord = JSON.stringify({ userIdentity: { type: 'Root' }, eventName: 'DeleteTrail', eventType: 'AwsApiCall', sourceIPAddress: '198.51.100.7' })

/** A Slack incoming webhook on 127.0.0.1 that keeps every body it is sent. */
async function fakeSlack () {
  const received: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk) => { body += chunk })
    req.on('end', () => { received.push(body); res.end('ok') })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { received, port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(resolve)) }
}

async function alertsOf (a: TestApp) {
  for (let i = 0; i < 50; i++) {
    const body = (await a.inject({ method: 'GET', url: '/alerts', headers: admin })).json()
    if (body.alerts.length > 0) return body
    await sleep(10)
  }
  return (await a.inject({ method: 'GET', url: '/alerts', headers: admin })).json()
}

describe('alerts', () => {
  it('raises the built-in rules on stored entries and lists them in GET /alerts, newest first', async () => {
    const a = await start({ adminToken: 'admin' })
    await post(a, rootRecord, { 'content-type': 'application/json' })
    const body = await alertsOf(a)
    expect(body.rules).toBe(22)
    expect(body.alerts.map((alert: { rule: string }) => alert.rule).sort()).toEqual(['cis-4.3-root-account-usage', 'cis-4.5-cloudtrail-changes'])
    expect(body.alerts[0]).toMatchObject({ block: { epoch: 0, index: 1 }, count: 1, digest: false })
  })

  it('never alerts on what was refused: a 451 or a 503 stores nothing, so nothing is evaluated', async () => {
    const a = await start({ adminToken: 'admin' })
    await post(a, rootRecord, { 'content-type': 'application/json', 'x-logfire-chaos': 'fire' })
    await post(a, JSON.stringify({ userIdentity: { type: 'Root' }, awsRegion: 'eu-west-1' }), { 'content-type': 'application/json' })
    await sleep(50)
    expect((await a.inject({ method: 'GET', url: '/alerts', headers: admin })).json().alerts).toEqual([])
  })

  it('needs the admin token: alerts carry what the rules read from the logs', async () => {
    expect((await (await start()).inject({ method: 'GET', url: '/alerts' })).statusCode).toBe(404)
    const a = await start({ adminToken: 'admin' })
    expect((await a.inject({ method: 'GET', url: '/alerts', headers: { authorization: 'Bearer nope' } })).statusCode).toBe(401)
  })

  it('sends an alert event on the stream and counts it in /metrics', async () => {
    const a = await start({ adminToken: 'admin' })
    const base = await a.listen({ port: 0, host: '127.0.0.1' })
    const stream = openStream(`${base}/logs/stream`)
    await stream.connected()
    try {
      await post(a, 'web1 sudo:  tom : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/sh')
      await stream.waitForEvents(2)
      expect(stream.events.map((event) => event.event)).toEqual(['block', 'alert'])
      expect(stream.events[1]?.data).toMatchObject({ rule: 'sudo-to-root', severity: 'medium', block: { index: 1 } })
    } finally {
      stream.close()
    }
    expect((await a.inject({ method: 'GET', url: '/metrics' })).body).toContain('logfire_alerts_total{rule="sudo-to-root"} 1')
  })
})

describe('alerts to outputs, end to end', () => {
  it('sends a root-usage record posted to /logs to a Slack receiver, and keeps ingest at 200 when another output fails', async () => {
    const { received, port, close } = await fakeSlack()
    try {
      const alerting = loadRules(`outputs:
  security-slack: { type: slack, url: "\${SLACK_URL}" }
  broken-pager: { type: pagerduty, routingKey: "\${PD_KEY}", url: "http://127.0.0.1:9/v2/enqueue" }
rules:
  - name: root-account-usage
    description: Root used from {{$.sourceIPAddress}}
    pattern: '{ $.userIdentity.type = "Root" }'
    severity: critical
    outputs: [log, broken-pager, security-slack]
`, 'rules.yaml', { SLACK_URL: `http://127.0.0.1:${port}/services/T/B/x`, PD_KEY: 'k' })
      const a = await start({ adminToken: 'admin' }, { alerting })
      expect((await post(a, rootRecord, { 'content-type': 'application/json' })).statusCode).toBe(200)
      for (let i = 0; i < 100 && received.length === 0; i++) await sleep(10)
      expect(JSON.parse(received[0] as string)).toMatchObject({
        text: expect.stringContaining('Root used from 198.51.100.7'),
        blocks: [{ type: 'header' }, { type: 'section', text: { text: 'Root used from 198.51.100.7' } }, { type: 'context' }]
      })
      await sleep(20)
      const metrics = (await a.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toContain('logfire_alert_output_attempts_total{output="security-slack"} 1')
      expect(metrics).toContain('logfire_alerts_total{rule="root-account-usage"} 1')
    } finally {
      await close()
    }
  })
})

describe('the talk, end to end', () => {
  it('a root-usage record posted to /logs reaches Slack and inflates an armed balloon: auto-off, on, off within the pulse', async () => {
    const plug = await fakeKasa()
    const slack = await fakeSlack()
    const slackBodies = slack.received
    const lines: string[] = []
    const logger = pino({ level: 'info' }, new Writable({ write (chunk, _encoding, done) { lines.push(String(chunk)); done() } }))
    try {
      const alerting = loadRules(`outputs:
  security-slack: { type: slack, url: "\${SLACK_WEBHOOK_URL}" }
  stage-balloon: { type: balloon, driver: kasa, host: 127.0.0.1, port: ${plug.port}, seconds: 1, armed: true }
rules:
  - name: root-account-usage
    description: Root used from {{$.sourceIPAddress}}
    pattern: '{ $.userIdentity.type = "Root" }'
    severity: critical
    outputs: [log, security-slack, stage-balloon]
`, 'rules.yaml', { SLACK_WEBHOOK_URL: `http://127.0.0.1:${slack.port}/services/T0/B0/s3cr3t-path` })
      const a = await start({ adminToken: 'admin' }, { alerting, clock: Date.now, logger })
      const began = Date.now()
      expect((await post(a, rootRecord, { 'content-type': 'application/json' })).statusCode).toBe(200)
      for (let i = 0; i < 300 && (plug.state.log.length < 6 || slackBodies.length === 0); i++) await sleep(10)

      expect(JSON.parse(slackBodies[0] as string)).toMatchObject({ text: expect.stringContaining('Root used from 198.51.100.7') })
      expect(plug.state.log).toEqual(['delete_all_rules', 'add_rule delay=1 act=0', 'set_relay_state 1', 'get_sysinfo', 'set_relay_state 0', 'get_sysinfo'])
      expect(plug.state.relay).toBe(0)
      expect(Date.now() - began).toBeGreaterThanOrEqual(1000)
      // Counted once the plug's answer to the last get_sysinfo is read, a
      // moment after the plug logged the command: 20 ms were once too few in CI.
      await expect.poll(async () => (await a.inject({ method: 'GET', url: '/metrics' })).body, { timeout: 2000 })
        .toMatch(/^logfire_balloon_seconds_total\{balloon="stage-balloon"\} 1\.\d+$/m)
      expect(lines.join('')).toContain('alert: Root used from 198.51.100.7')
      expect(lines.join('')).not.toContain('s3cr3t-path')

      // The emergency stop switches every plug off and says which confirmed.
      expect((await a.inject({ method: 'POST', url: '/admin/balloon/off', headers: admin })).json()).toEqual({ off: ['stage-balloon'], failed: [] })
      expect((await a.inject({ method: 'POST', url: '/admin/balloon/off' })).statusCode).toBe(401)
    } finally {
      await plug.close()
      await slack.close()
    }
  })
})

describe('a flatline rule, end to end', () => {
  it('fires once when the heartbeats stop, then resolves: a PagerDuty resolve of the same incident, a Slack message, the balloon switched off', async () => {
    const plug = await fakeKasa()
    const slack = await fakeSlack()
    const pager = await fakeSlack()
    let endPulse = () => {}
    try {
      const alerting = loadRules(`outputs:
  slack: { type: slack, url: "\${SLACK_URL}" }
  pager: { type: pagerduty, routingKey: "\${PD_KEY}", url: "http://127.0.0.1:${pager.port}/v2/enqueue" }
  stage-balloon: { type: balloon, driver: kasa, host: 127.0.0.1, port: ${plug.port}, seconds: 15, armed: true }
rules:
  - name: shipper-went-quiet
    type: flatline
    threshold: 1
    withinSeconds: 0.3
    description: No heartbeat for 0.3 s
    pattern: heartbeat
    severity: high
    outputs: [log, slack, pager, stage-balloon]
`, 'rules.yaml', { SLACK_URL: `http://127.0.0.1:${slack.port}/hook`, PD_KEY: 'R0UTING' })
      // The pulse lasts until the test ends it: only the resolve switches the plug off.
      const balloonWait = () => new Promise<void>((resolve) => { endPulse = resolve })
      const a = await start({ adminToken: 'admin' }, { alerting: { ...alerting, balloonWait }, clock: Date.now })
      for (let i = 0; i < 300 && (pager.received.length === 0 || plug.state.relay === 0 || slack.received.length === 0); i++) await sleep(10)
      const trigger = JSON.parse(pager.received[0] as string)
      expect(trigger).toMatchObject({ event_action: 'trigger', routing_key: 'R0UTING', payload: { summary: 'No heartbeat for 0.3 s', severity: 'error' } })
      expect(JSON.parse(slack.received[0] as string).text).toContain('HIGH: shipper-went-quiet')
      expect(plug.state.relay).toBe(1)
      // Still quiet: fired once, not once a window.
      await sleep(700)
      expect(pager.received).toHaveLength(1)

      expect((await post(a, 'heartbeat')).statusCode).toBe(200)
      for (let i = 0; i < 300 && (pager.received.length < 2 || plug.state.relay === 1 || slack.received.length < 2); i++) await sleep(10)
      expect(JSON.parse(pager.received[1] as string)).toEqual({ routing_key: 'R0UTING', event_action: 'resolve', dedup_key: trigger.dedup_key })
      expect(JSON.parse(slack.received[1] as string).text).toContain('RESOLVED: shipper-went-quiet')
      expect(plug.state.relay).toBe(0)
      const { alerts, uncounted } = (await a.inject({ method: 'GET', url: '/alerts', headers: admin })).json()
      expect(alerts.map((alert: { resolves?: number }) => alert.resolves)).toEqual([1, undefined])
      expect(uncounted).toBe(0)
      const metrics = (await a.inject({ method: 'GET', url: '/metrics' })).body
      expect(metrics).toContain('logfire_alerts_total{rule="shipper-went-quiet"} 1')
      expect(metrics).toContain('logfire_alert_resolves_total{rule="shipper-went-quiet"} 1')
    } finally {
      endPulse()
      await plug.close()
      await slack.close()
      await pager.close()
    }
  })
})

describe('chaos triggered by alerts', () => {
  afterEach(() => { vi.useRealTimers() })

  const rules = (output: string) => loadRules(`outputs:
  monkeys: ${output}
rules:
  - name: root-account-usage
    description: Root used from {{$.sourceIPAddress}}
    pattern: '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
    severity: critical
    outputs: [log, monkeys]
`, 'rules.yaml')

  it('a CloudTrail root-usage record starts the outage scenario: the next request gets its 503, and 30 s of fake time later it recovers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { logger, lines } = captureLogs()
    const a = await start({ adminToken: 'admin' }, { alerting: rules('{ type: chaos, scenario: outage, cooldownSeconds: 300 }'), clock: Date.now, logger })
    const base = await a.listen({ port: 0, host: '127.0.0.1' })
    const stream = openStream(`${base}/logs/stream`)
    await stream.connected()
    try {
      expect((await post(a, rootRecord, { 'content-type': 'application/json' })).statusCode).toBe(200)
      await stream.waitForEvents(4)
      expect(stream.events.map((event) => event.event)).toEqual(['block', 'alert', 'chaos', 'scenario'])
      expect(stream.events[2]?.data).toEqual({ output: 'monkeys', rule: 'root-account-usage', alert: 1, action: 'scenario', scenario: 'outage' })
      expect((await post(a, 'the next line')).json()).toMatchObject({ error: 'lp0 on fire' })
      expect((await a.inject({ method: 'GET', url: '/admin/scenario', headers: admin })).json()).toMatchObject({ scenario: { name: 'outage', step: 1 } })
      // The cooldown: another root record alerts, and the monkeys stay put.
      vi.advanceTimersByTime(10_000)
      await post(a, rootRecord, { 'content-type': 'application/json', 'x-logfire-chaos': 'off' })
      for (let i = 0; i < 100 && !lines.some((line) => line.msg === 'chaos output cooling down: nothing done'); i++) await new Promise((resolve) => setImmediate(resolve))
      expect(lines.filter((line) => String(line.msg).startsWith('chaos output'))).toEqual([
        expect.objectContaining({ msg: 'chaos output: starting a scenario', output: 'monkeys', rule: 'root-account-usage', scenario: 'outage' }),
        expect.objectContaining({ msg: 'chaos output cooling down: nothing done', output: 'monkeys' })
      ])
      vi.advanceTimersByTime(19_999)
      expect((await post(a, 'still down')).statusCode).toBe(503)
      vi.advanceTimersByTime(1)
      expect((await post(a, 'recovered')).statusCode).toBe(200)
    } finally {
      stream.close()
    }
  })

  it('burns the chain, or sets rates for a while and restores them', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const burner = await start({ adminToken: 'admin' }, { alerting: rules('{ type: chaos, burn: true }'), clock: Date.now })
    await post(burner, 'kept until the burn')
    await post(burner, rootRecord, { 'content-type': 'application/json' })
    let length = 3
    for (let i = 0; i < 100 && length > 1; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      length = (await burner.inject({ method: 'GET', url: '/logs' })).json().length
    }
    expect(length).toBe(1)

    const slower = await start({ adminToken: 'admin', fireRate: 0.05 }, { alerting: rules('{ type: chaos, set: { fireRate: 1 }, seconds: 60 }'), clock: Date.now })
    const rate = async () => (await slower.inject({ method: 'GET', url: '/admin/chaos', headers: admin })).json().fireRate as number
    await post(slower, rootRecord, { 'content-type': 'application/json', 'x-logfire-chaos': 'off' })
    for (let i = 0; i < 100 && await rate() !== 1; i++) await new Promise((resolve) => setImmediate(resolve))
    expect(await rate()).toBe(1)
    vi.advanceTimersByTime(60_000)
    expect(await rate()).toBe(0.05)
  })
})
