import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe } from 'vitest'
import type { Config } from '../../../src/config.js'
import { NO_FAULT_SETTINGS } from '../../../src/fire/faults.js'
import { it, type Defer } from '../../defer.js'
import { testConfig } from '../../helpers.js'
import { STREAMS, startListening } from '../../listeners/listening.js'
import { selfSignedPair } from './stream-shippers.js'
import { eventually, startLogfire, type Logfire } from './harness.js'
import { startSyslogNg, syslogNgMissing } from './syslog-ng.js'

interface CanaryResult { code: number | null, verdict: any, stderr: string }

/** `logfire canary` as a user runs it: the built CLI, in its own process. */
function canary (args: string[], env: Record<string, string> = {}): Promise<CanaryResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['dist/cli.js', 'canary', ...args, '--json'], { timeout: 60_000, env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      let verdict: unknown
      try { verdict = JSON.parse(stdout) } catch { verdict = stdout }
      resolve({ code: error === null ? 0 : (error as { code?: number }).code ?? null, verdict, stderr })
    })
  })
}

const title = syslogNgMissing === undefined
  ? 'logfire canary → a file → syslog-ng file() and http() → logfire'
  : `logfire canary through syslog-ng (skipped: Debian package ${syslogNgMissing} missing; .ci/run installs it)`

// Each test has its own logfire, syslog-ng and canary process, and spends
// most of its time waiting for the canary's quiet period: they run side by side.
describe.skipIf(syslogNgMissing !== undefined)(title, { concurrent: true }, () => {
  async function pipeline (defer: Defer, overrides: Partial<Config> = {}, http = '', source?: string) {
    const dir = mkdtempSync(join(tmpdir(), 'logfire-canary-'))
    defer(() => { rmSync(dir, { recursive: true, force: true }) })
    const file = join(dir, 'canary.log')
    writeFileSync(file, '')
    const logfire = await startLogfire(overrides)
    defer(logfire.close)
    const syslogNg = startSyslogNg(
      `url("${logfire.base}/logs") body("\${MSG}") batch-lines(10) batch-timeout(100) retries(1000) ${http}`,
      source ?? `file("${file}" follow-freq(0.1) flags(no-parse))`
    )
    defer(syslogNg.stop)
    await sleep(300) // syslog-ng opens the file
    return { logfire, file }
  }

  const counted = (logfire: Logfire, status: number) => logfire.posts('/logs').filter((post) => post.statusCode === status).length

  it('with the chaos off: every line, once, in order; exit 0', async ({ defer, expect }) => {
    const { logfire, file } = await pipeline(defer)
    const run = await canary(['--to', `file:${file}`, '--logfire', logfire.base, '--run', 'calm', '--count', '60', '--rate', '300/s', '--settle', '10'])
    expect(run.verdict).toMatchObject({ sent: 60, delivered: 60, lost: 0, duplicated: 0, failures: [] })
    expect(run.code).toBe(0)
    // Ground truth: the chain holds exactly the 60 lines the canary wrote.
    const seqs = (await logfire.entries()).map((entry) => Number(/seq=(\d+)/.exec(entry)?.[1]))
    expect(seqs).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
  })

  it('over syslog on UDP (RFC 5424) into syslog-ng\'s syslog() source: every line, once', async ({ defer, expect }) => {
    const port = 20_000 + Math.floor(Math.random() * 20_000)
    const { logfire } = await pipeline(defer, {}, '', `syslog(ip(127.0.0.1) port(${port}) transport("udp"))`)
    const run = await canary(['--to', `syslog+udp://127.0.0.1:${port}`, '--logfire', logfire.base, '--run', 'udp', '--count', '40', '--rate', '200/s', '--settle', '10'])
    expect(run.verdict).toMatchObject({ sent: 40, delivered: 40, lost: 0, duplicated: 0 })
    expect(run.code).toBe(0)
    // syslog-ng parsed the RFC 5424 header off: the chain holds the canary's lines themselves.
    expect((await logfire.entries())[0]).toMatch(/^logfire-canary run=udp seq=1 sent=\d+$/)
  })

  it('with lp0 at 50% and syslog-ng resending: nothing lost, and the 503s it counts are the ones logfire answered', async ({ defer, expect }) => {
    const { logfire, file } = await pipeline(defer, { fireRate: 0.5, seed: 'canary-lp0' })
    const run = await canary(['--to', `file:${file}`, '--logfire', logfire.base, '--run', 'lp0', '--count', '40', '--rate', '200/s', '--settle', '30'])
    expect(run.verdict).toMatchObject({ sent: 40, delivered: 40, lost: 0 })
    expect(run.code).toBe(0)
    expect(counted(logfire, 503)).toBeGreaterThan(0)
    expect(run.verdict.chaos['lp0 503']).toBe(counted(logfire, 503))
  })

  it('with reset-after-append on the first request: exactly the lines the chain holds twice are reported duplicated', async ({ defer, expect }) => {
    const { logfire, file } = await pipeline(defer, {}, 'headers("X-Logfire-Chaos: reset-after-append")')
    const running = canary(['--to', `file:${file}`, '--logfire', logfire.base, '--run', 'dup', '--count', '30', '--rate', '300/s', '--settle', '10', '--max-duplicates', '0'])
    await eventually(() => expect(logfire.events('fault').length).toBeGreaterThan(0))
    await logfire.ignoreChaosHeader()
    const run = await running
    const entries = await logfire.entries()
    const copies = new Map<string, number>()
    for (const entry of entries) copies.set(entry, (copies.get(entry) ?? 0) + 1)
    const twice = [...copies.values()].filter((count) => count > 1).reduce((sum, count) => sum + count - 1, 0)
    expect(twice).toBeGreaterThan(0)
    expect(run.verdict).toMatchObject({ sent: 30, lost: 0, duplicated: twice })
    expect(run.verdict.chaos['reset-after-append']).toBeGreaterThan(0)
    // Over the threshold: exit 1, and the verdict says why.
    expect(run.code).toBe(1)
    expect(run.verdict.failures).toEqual([`duplicated: ${twice}, more than 0`])
  })

  it('with a burn mid-run: the lines delivered and later burned are the ones the burn destroyed', async ({ defer, expect }) => {
    const { logfire, file } = await pipeline(defer)
    const running = canary(['--to', `file:${file}`, '--logfire', logfire.base, '--run', 'burnt', '--count', '60', '--rate', '40/s', '--settle', '10'])
    await eventually(async () => expect((await logfire.entries()).length).toBeGreaterThan(10))
    const burned = (await logfire.app.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer admin-token' } })).json().burned as number
    const run = await running
    expect(run.verdict).toMatchObject({ sent: 60, delivered: 60, lost: 0, burnedAfterDelivery: burned })
    expect((await logfire.entries()).length).toBe(60 - burned)
  })
})

describe('logfire canary on its own', { concurrent: true }, () => {
  it('exits 2 with the usage on a bad option, and 2 when logfire cannot be reached', async ({ expect }) => {
    const bad = await canary(['--to', 'carrier-pigeon'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--to must be file:<path>, stdout, syslog+udp://host:port, syslog+tcp://host:port, syslog+tls://host:port or http://host:port/path')
    const unreachable = await canary(['--to', 'stdout', '--logfire', 'http://127.0.0.1:9', '--count', '1'])
    expect(unreachable.code).toBe(2)
    expect(unreachable.stderr).toContain('cannot reach logfire at http://127.0.0.1:9')
  })

  it('writes octet-counted syslog over TCP with --to syslog+tcp:, straight into logfire\'s listener', async ({ defer, expect }) => {
    const l = await startListening()
    defer(l.close)
    const run = await canary(['--to', `syslog+tcp://127.0.0.1:${l.tcp}`, '--logfire', await l.app.listen({ port: 0, host: '127.0.0.1' }), '--run', 'tcp', '--count', '200', '--rate', '2000/s', '--settle', '5'])
    expect(run.verdict).toMatchObject({ sent: 200, delivered: 200, lost: 0 })
    expect(run.code).toBe(0)
    expect((await l.streams()).recent[0]).toMatchObject({ protocol: 'syslog-tcp', messages: 200, stored: 200 })
  })

  it('writes over TLS with --to syslog+tls:, trusting a self-signed certificate through NODE_EXTRA_CA_CERTS', async ({ defer, expect }) => {
    const dir = mkdtempSync(join(tmpdir(), 'logfire-canary-tls-'))
    defer(() => { rmSync(dir, { recursive: true, force: true }) })
    const { certFile, keyFile } = selfSignedPair(dir)
    const l = await startListening({ streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, syslogTlsPort: 0, tls: { certFile, keyFile } } }, { cert: readFileSync(certFile), key: readFileSync(keyFile) })
    defer(l.close)
    const run = await canary(['--to', `syslog+tls://127.0.0.1:${l.tls}`, '--logfire', await l.app.listen({ port: 0, host: '127.0.0.1' }), '--run', 'tls', '--count', '100', '--rate', '1000/s', '--settle', '3'], { NODE_EXTRA_CA_CERTS: certFile })
    expect(run.verdict).toMatchObject({ sent: 100, delivered: 100, lost: 0 })
    expect((await l.streams()).recent[0]).toMatchObject({ protocol: 'syslog-tls', stored: 100 })
  })

  it('waits out a quiet period, not a fixed time, and says so when lines are still arriving at the deadline', async ({ defer, expect }) => {
    const l = await startListening()
    defer(l.close)
    // Read at 1 KB/s: 1,000 lines of about 200 bytes take minutes to arrive.
    // So many that the listener's first read (64 KiB at most) cannot take
    // them all before the fault slows it: on a loaded machine, 100 lines
    // were all in the socket by then, and arrived at once.
    await l.scenario([{ messages: 1, chaos: 'slow-read=1000' }])
    const began = Date.now()
    const run = await canary(['--to', `syslog+tcp://127.0.0.1:${l.tcp}`, '--logfire', await l.app.listen({ port: 0, host: '127.0.0.1' }), '--run', 'slow', '--count', '1000', '--rate', '1000/s', '--size', '100', '--settle', '2', '--deadline', '4'])
    // Its verdict given, it exits: the bytes still in the kernel are the kernel's to deliver, minutes at this rate.
    expect(Date.now() - began).toBeLessThan(12_000)
    expect(run.code).toBe(1)
    expect(run.verdict.stillArriving).toBeGreaterThan(1)
    expect(run.verdict.failures.join()).toMatch(/still arriving: \d+\.\d lines\/s at the deadline/)
    expect(run.stderr).toMatch(/waiting, \d+\/1000 arrived, quiet for/)
  })

  it('posts straight to logfire through answers it cannot read (garbage, resets) and still gives its verdict', async ({ defer, expect }) => {
    const logfire = await startLogfire({ seed: 'canary-garbage', faults: { ...NO_FAULT_SETTINGS, garbageRate: 0.3, resetRate: 0.1 } })
    defer(logfire.close)
    const run = await canary(['--to', `${logfire.base}/logs`, '--logfire', logfire.base, '--run', 'garbled', '--count', '50', '--rate', '500/s', '--settle', '1', '--max-lost', '50'])
    expect(run.stderr).not.toMatch(/TypeError|terminated/)
    expect(run.verdict).toMatchObject({ sent: 50, delivered: (await logfire.entries()).length })
    expect(run.verdict.chaos.garbage).toBeGreaterThan(0)
    expect(run.code).toBe(0)
  })

  it('--new-fire creates a fire on an open instance, runs against it alone, and prints its page', async ({ defer, expect }) => {
    const logfire = await startLogfire({ fires: { ...testConfig().fires, mode: 'open' } })
    defer(logfire.close)
    const run = await canary(['--new-fire', '--to', `${logfire.base}/logs`, '--logfire', logfire.base, '--run', 'own', '--count', '30', '--rate', '500/s', '--settle', '1'])
    expect(run.code).toBe(0)
    expect(run.verdict).toMatchObject({ sent: 30, delivered: 30, lost: 0 })
    const page = /watch it at (http:\/\/\S+\/f\/[\w-]+#lf_view_\S+)/.exec(run.stderr)?.[1]
    expect(page).toBeDefined()
    // The public fire saw none of it.
    expect(await logfire.entries()).toEqual([])
    const chain = await fetch(`${logfire.base}/logs`, { headers: { authorization: `Bearer ${new URL(page as string).hash.slice(1)}` } })
    expect(await chain.json()).toHaveLength(31)
    const refused = await canary(['--new-fire', '--to', 'stdout', '--logfire', logfire.base])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('--new-fire needs --to http://host:port/logs')
  })

  it('posts straight to logfire with --to http: and reads the lines back, lp0 and all', async ({ defer, expect }) => {
    const logfire = await startLogfire({ fireRate: 0.3, seed: 'canary-http' })
    defer(logfire.close)
    const run = await canary(['--to', `${logfire.base}/logs`, '--logfire', logfire.base, '--run', 'direct', '--count', '50', '--rate', '500/s', '--settle', '1', '--max-lost', '50'])
    const stored = (await logfire.entries()).length
    expect(run.verdict).toMatchObject({ sent: 50, delivered: stored, lost: 50 - stored })
    expect(run.verdict.chaos['lp0 503']).toBe(50 - stored)
    expect(run.code).toBe(0)
  })
})
