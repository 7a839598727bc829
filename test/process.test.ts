import { once } from 'node:events'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { eventually } from './e2e/shippers/harness.js'
import { exchange } from './fire/raw-client.js'
import { NaivechainNode } from './peers/naivechain-node.js'
import { openStream } from './sse-client.js'
import { npmStart, startServer } from './server-process.js'

describe('the built server as a real process', () => {
  it('runs in the container with the same command as npm start', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(readFileSync('Dockerfile', 'utf8'))?.[1]
    expect(JSON.parse(cmd ?? 'null')).toEqual(npmStart)
    expect(npmStart.at(-1)).toBe('dist/server.js')
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('exits 0 on %s', async (signal) => {
    const server = startServer()
    await server.listening
    server.child.kill(signal)
    const [code] = await server.exited
    expect(code).toBe(0)
  })

  it('serves the API and exits 0 on SIGTERM', async () => {
    const server = startServer({ LOGFIRE_SEED: 'process-test' })
    const base = await server.listening

    const posted = await fetch(`${base}/logs`, { method: 'POST', body: 'secret user line' })
    expect(posted.status).toBe(200)
    expect(posted.headers.get('x-logfire-seed')).toBe('process-test')
    const chain = await (await fetch(`${base}/logs`)).json()
    expect(chain.map((block: { data: string }) => block.data)).toEqual(['my genesis block!!', 'secret user line'])

    server.child.kill('SIGTERM')
    const [code] = await server.exited
    expect(code).toBe(0)
    // One JSON line per request, and never the content of a log line.
    const lines = server.output().stdout.trim().split('\n').map((line) => JSON.parse(line))
    expect(lines.filter((line) => line.msg === 'request')).toHaveLength(2)
    expect(server.output().stdout).not.toContain('secret user line')
  })

  it('finishes a request in flight before exiting on SIGTERM', async () => {
    const server = startServer()
    const base = new URL(await server.listening)

    // Headers and half the body now, the rest after SIGTERM.
    const pending = new Promise<{ status: number, body: string }>((resolve, reject) => {
      const req = request({ host: base.hostname, port: base.port, path: '/logs', method: 'POST', headers: { 'content-length': '10' } }, (res) => {
        let body = ''
        res.on('data', (chunk) => { body += chunk })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.write('hello')
      setTimeout(() => {
        server.child.kill('SIGTERM')
        setTimeout(() => req.end('world'), 300)
      }, 200)
    })

    const response = await pending
    expect(response.status).toBe(200)
    expect(JSON.parse(response.body)).toMatchObject({ appended: 1, blocks: [{ data: 'helloworld' }] })
    // The in-flight client's keep-alive socket must not hold the exit up.
    const deadline = setTimeout(() => server.child.kill('SIGKILL'), 3000)
    const [code, signal] = await server.exited
    clearTimeout(deadline)
    expect({ code, signal }).toEqual({ code: 0, signal: null })
  })

  it('exits 0 within two seconds of SIGTERM with viewers on the event stream', async () => {
    const server = startServer()
    const base = await server.listening
    const viewers = [openStream(`${base}/logs/stream`), openStream(`${base}/logs/stream`)]
    await Promise.all(viewers.map((viewer) => viewer.connected()))

    const deadline = setTimeout(() => server.child.kill('SIGKILL'), 2000)
    server.child.kill('SIGTERM')
    const [code, signal] = await server.exited
    clearTimeout(deadline)
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    for (const viewer of viewers) {
      await viewer.waitForEnd()
      viewer.close()
    }
  })

  it('exits 0 at once on SIGTERM while faults hold connections: a hang, a delay, a trickle', async () => {
    const server = startServer()
    const port = Number(new URL(await server.listening).port)
    const held = ['hang', 'delay=60000', 'slow-response=60000'].map((directives) => exchange(port, { headers: { 'x-logfire-chaos': directives } }))
    await new Promise((resolve) => setTimeout(resolve, 500))
    const deadline = setTimeout(() => server.child.kill('SIGKILL'), 3000)
    server.child.kill('SIGTERM')
    const [code, signal] = await server.exited
    clearTimeout(deadline)
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    for (const seen of await Promise.all(held)) expect(seen.ending).not.toBe('cut')
  })

  it('refuses a bad configuration with one line naming the variable and a non-zero exit', async () => {
    const server = startServer({ LOGFIRE_FIRE_RATE: '2' })
    const [code] = await server.exited
    expect(code).toBe(1)
    expect(server.output().stderr).toBe('logfire: invalid configuration: LOGFIRE_FIRE_RATE must be a number from 0 to 1, got "2"\n')
  })

  it('alerts on a posted root-usage record with no setup: in the log and in GET /alerts', async () => {
    const server = startServer({ LOGFIRE_ADMIN_TOKEN: 'process-admin' })
    const base = await server.listening
    const record = { userIdentity: { type: 'Root', arn: 'arn:aws:iam::123456789012:root' }, eventName: 'CreateBucket', eventType: 'AwsApiCall', sourceIPAddress: '198.51.100.7' }
    expect((await fetch(`${base}/logs`, { method: 'POST', body: JSON.stringify(record), headers: { 'content-type': 'application/json' } })).status).toBe(200)

    let alerts: Array<{ rule: string, description: string }> = []
    for (let i = 0; i < 50 && alerts.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20))
      alerts = (await (await fetch(`${base}/alerts`, { headers: { authorization: 'Bearer process-admin' } })).json()).alerts
    }
    expect(alerts).toEqual([expect.objectContaining({ rule: 'cis-4.3-root-account-usage', description: 'Root account used: CreateBucket from 198.51.100.7' })])
    // Log lines go out in batches, at least every quarter second.
    const loggedAlerts = () => server.output().stdout.split('\n').filter((line) => line.includes('"alert"')).map((line) => JSON.parse(line))
    for (let i = 0; i < 50 && loggedAlerts().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(loggedAlerts()).toEqual([expect.objectContaining({ level: 40, msg: 'alert: Root account used: CreateBucket from 198.51.100.7', alert: expect.objectContaining({ rule: 'cis-4.3-root-account-usage', severity: 'critical' }) })])
  })

  it('runs the scenario LOGFIRE_SCENARIO names, and refuses a bad one naming the file, line and step', async () => {
    const flaky = startServer({ LOGFIRE_SCENARIO: 'flaky' })
    const base = await flaky.listening
    const codes: number[] = []
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${base}/logs`, { method: 'POST', body: 'flaky line' })
      await response.arrayBuffer()
      codes.push(response.status)
    }
    expect(codes).toEqual([503, 503, 503, 200])
    const dir = mkdtempSync(join(tmpdir(), 'logfire-scenario-'))
    const file = join(dir, 'scenario.yaml')
    writeFileSync(file, 'steps:\n  - requests: 3\n    chaos: fire\n  - seconds: 5\n    chaos: sparkle\n')
    const server = startServer({ LOGFIRE_SCENARIO: file })
    const [code] = await server.exited
    rmSync(dir, { recursive: true })
    expect(code).toBe(1)
    expect(server.output().stderr).toBe(`logfire: invalid scenario: ${file}:4:5: step 2: chaos: sparkle: not a directive\n`)
  })

  it('refuses a bad rules file naming the file, line, column and rule', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'logfire-rules-'))
    const file = join(dir, 'rules.yaml')
    writeFileSync(file, 'rules:\n  - name: broken\n    description: x\n    pattern: "{ $.a = }"\n    severity: high\n')
    const server = startServer({ LOGFIRE_RULES: file })
    const [code] = await server.exited
    rmSync(dir, { recursive: true })
    expect(code).toBe(1)
    expect(server.output().stderr).toBe(`logfire: invalid rules file: ${file}:4:23: rule "broken": pattern: expected a value after = at column 9\n`)
  })

  it('listens on LOGFIRE_P2P_PORT and dials LOGFIRE_PEERS: a naivechain node on each side follows the chain', async () => {
    const dialled = new NaivechainNode()
    const dialledPort = await dialled.listen()
    const p2pPort = await freePort()
    const server = startServer({ LOGFIRE_P2P_PORT: String(p2pPort), LOGFIRE_PEERS: `ws://127.0.0.1:${dialledPort}` })
    const base = await server.listening
    const dialling = new NaivechainNode()
    try {
      await eventually(() => { expect(server.output().stdout).toContain('peer-to-peer listening') })
      await dialling.connect(`ws://127.0.0.1:${p2pPort}`)
      await (await fetch(`${base}/logs`, { method: 'POST', body: 'to both peers', headers: { 'x-logfire-chaos': 'off' } })).arrayBuffer()
      await eventually(() => {
        expect(dialled.blockchain.map((block) => block.data)).toEqual(['my genesis block!!', 'to both peers'])
        expect(dialling.blockchain.map((block) => block.data)).toEqual(['my genesis block!!', 'to both peers'])
      })
      expect((await (await fetch(`${base}/peers`)).json()).peers.map((peer: { direction: string }) => peer.direction).sort()).toEqual(['in', 'out'])
    } finally {
      await dialled.close()
      await dialling.close()
    }
  })

  it('two logfire processes with LOGFIRE_P2P_ACCEPT=longest: the shorter adopts the longer chain, and it verifies', async () => {
    const [longerPort, shorterPort] = [await freePort(), await freePort()]
    const longer = startServer({ LOGFIRE_P2P_PORT: String(longerPort) })
    const longerBase = await longer.listening
    await (await fetch(`${longerBase}/logs`, { method: 'POST', body: 'one\ntwo\nthree\nfour', headers: { 'x-logfire-chaos': 'off' } })).arrayBuffer()
    const shorter = startServer({ LOGFIRE_P2P_PORT: String(shorterPort), LOGFIRE_P2P_ACCEPT: 'longest', LOGFIRE_PEERS: `ws://127.0.0.1:${longerPort}` })
    const shorterBase = await shorter.listening
    const chain = async (base: string) => (await fetch(`${base}/logs`, { headers: { 'x-logfire-chaos': 'off' } })).text()
    await eventually(async () => { expect(await chain(shorterBase)).toBe(await chain(longerBase)) })
    expect(await (await fetch(`${shorterBase}/logs/verify`, { headers: { 'x-logfire-chaos': 'off' } })).json()).toMatchObject({ valid: true, length: 5 })
    // Log lines go out in batches, at least every quarter second.
    await eventually(() => { expect(shorter.output().stdout).toContain("chain replaced by a peer's longer chain") })
  })
})

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
