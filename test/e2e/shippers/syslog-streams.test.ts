import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe } from 'vitest'
import { it, type Defer } from '../../defer.js'
import { chainEntries, testConfig } from '../../helpers.js'
import { startListening, until, type Listening } from '../../listeners/listening.js'
import { rsyslogStreamMissing, selfSignedPair, settled, startRsyslogForward, startSyslogNgStream, syslogNgStreamMissing, writeCanary } from './stream-shippers.js'

/** The scenario that makes plain TCP syslog lose silently: accept 500, then stop reading, let the buffers fill, and reset. */
const STALL_THEN_RESET = [{ messages: 500 }, { messages: 1, chaos: 'stall=3000, reset' }]

// Each test has its own listener and shipper, and spends most of its time
// waiting on the shipper's timers: they run side by side.
describe('syslog over streams, from real shippers', { concurrent: true }, () => {
  async function listening (defer: Defer, ...args: Parameters<typeof startListening>): Promise<Listening> {
    const l = await startListening(...args)
    defer(l.close)
    return l
  }

  const tail = (entries: string[]) => entries.map((entry) => entry.split(' ').slice(-2).join(' '))
  const writeLines = (file: string, lines: string[]) => { appendFileSync(file, lines.map((line) => line + '\n').join('')) }

  describe.skipIf(syslogNgStreamMissing !== undefined)(`syslog-ng${syslogNgStreamMissing === undefined ? '' : ` (skipped: ${syslogNgStreamMissing})`}`, () => {
    it('network(): RFC 3164 with LF framing, each line one entry, header included', async ({ defer, expect }) => {
      const l = await listening(defer)
      const shipper = await startSyslogNgStream(`network("127.0.0.1" port(${l.tcp}) transport("tcp"))`)
      defer(shipper.stop)
      writeLines(shipper.file, ['network one', 'network two', 'network three'])
      await until(async () => (await l.entries()).length === 3)
      const entries = await l.entries()
      expect(tail(entries)).toEqual(['network one', 'network two', 'network three'])
      expect(entries[0]).toMatch(/^<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d /)
    })

    it('syslog(): RFC 5424 with octet counting, stored without the LF syslog-ng counts in the frame', async ({ defer, expect }) => {
      const l = await listening(defer)
      const shipper = await startSyslogNgStream(`syslog("127.0.0.1" port(${l.tcp}) transport("tcp"))`)
      defer(shipper.stop)
      writeLines(shipper.file, ['octet one', 'octet two'])
      await until(async () => (await l.entries()).length === 2)
      const entries = await l.entries()
      expect(tail(entries)).toEqual(['octet one', 'octet two'])
      expect(entries[0]).toMatch(/^<\d+>1 \S+ \S+ .*\[meta sequenceId="1"\] octet one$/)
      expect(entries.every((entry) => !entry.endsWith('\n'))).toBe(true)
    })

    it('syslog() over TLS (RFC 5425), to a self-signed certificate', async ({ defer, expect }) => {
      const dir = mkdtempSync(join(tmpdir(), 'logfire-tls-'))
      defer(() => { rmSync(dir, { recursive: true, force: true }) })
      const { certFile, keyFile } = selfSignedPair(dir)
      const l = await listening(defer, { streams: { syslogTcpPort: undefined, syslogUdpPort: undefined, syslogTlsPort: 0, relpPort: undefined, forwardPort: undefined, forwardSharedKey: undefined, gelfTcpPort: undefined, gelfUdpPort: undefined, tls: { certFile, keyFile }, maxConnections: 64, idleMs: 60_000 } },
        { cert: readFileSync(certFile), key: readFileSync(keyFile) })
      const shipper = await startSyslogNgStream(`syslog("127.0.0.1" port(${l.tls}) transport("tls") tls(ca-file("${certFile}") peer-verify(required-trusted)))`)
      defer(shipper.stop)
      writeLines(shipper.file, ['secret one', 'secret two'])
      await until(async () => (await l.entries()).length === 2)
      expect(tail(await l.entries())).toEqual(['secret one', 'secret two'])
      expect((await l.streams()).live[0]).toMatchObject({ protocol: 'syslog-tls', stored: 2 })
    })

    describe('to a fire of one\'s own (open mode), by its ingest token', () => {
      async function openListening (defer: Defer) {
        const l = await listening(defer, { fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 } })
        const fire = (await l.app.inject({ method: 'POST', url: '/fires' })).json<{ ingestToken: string, viewToken: string }>()
        const entries = () => chainEntries(l.app, { authorization: `Bearer ${fire.viewToken}`, 'x-logfire-chaos': 'off' })
        return { l, fire, entries }
      }

      it('first in the line, from a template as Rapid7\'s token TCP asks: stored without it', async ({ defer, expect }) => {
        const { l, fire, entries } = await openListening(defer)
        const shipper = await startSyslogNgStream(`network("127.0.0.1" port(${l.tcp}) transport("tcp") template("${fire.ingestToken} <$PRI>$BSDDATE $HOST $MSGHDR$MSG\\n"))`)
        defer(shipper.stop)
        writeLines(shipper.file, ['token one', 'token two'])
        await until(async () => (await entries()).length === 2)
        expect(tail(await entries())).toEqual(['token one', 'token two'])
        expect((await entries()).join('\n')).not.toContain(fire.ingestToken)
        expect(await l.entries()).toEqual([])
      })

      it('in RFC 5424 structured data, set by a rewrite rule: the SD element taken out, the message kept', async ({ defer, expect }) => {
        const { l, fire, entries } = await openListening(defer)
        const shipper = await startSyslogNgStream(`syslog("127.0.0.1" port(${l.tcp}) transport("tcp"))`, `set("${fire.ingestToken}" value(".SDATA.logfire@32473.token"))`)
        defer(shipper.stop)
        writeLines(shipper.file, ['sdata one', 'sdata two'])
        await until(async () => (await entries()).length === 2)
        const stored = await entries()
        expect(tail(stored)).toEqual(['sdata one', 'sdata two'])
        expect(stored[0]).toMatch(/^<\d+>1 \S+ \S+ .*\[meta sequenceId="1"\] sdata one$/)
        expect(stored.join('\n')).not.toContain(fire.ingestToken)
        expect(await l.entries()).toEqual([])
      })
    })

    // One line at a time, each in before the next is written: what each fault costs, line by line.
    async function slowly (l: Listening, file: string, count: number) {
      for (let i = 1; i <= count; i++) {
        writeLines(file, [`slow ${i}`])
        await sleep(400)
      }
      await sleep(2500) // past time-reopen(1): the reconnect and whatever it resends
      return (await l.entries()).map((entry) => entry.split(' ').at(-1))
    }

    it('network(), close: the message met by the FIN is lost, and only it: syslog-ng reads the FIN and reconnects before its next write', async ({ defer, expect }) => {
      const l = await listening(defer)
      await l.scenario([{ messages: 2 }, { messages: 1, chaos: 'close' }])
      const shipper = await startSyslogNgStream(`network("127.0.0.1" port(${l.tcp}) transport("tcp"))`)
      defer(shipper.stop)
      const stored = await slowly(l, shipper.file, 6)
      expect(stored).toEqual(['1', '2', '4', '5', '6'])
      // syslog-ng counts every line written, the lost one too.
      expect(await shipper.stats()).toMatchObject({ written: 6, dropped: 0 })
    }, 30_000)

    it('network(), reset: the message met by the RST is lost, the rest arrive over a new connection; reset-after-append stores once, never twice', async ({ defer, expect }) => {
      const l = await listening(defer)
      await l.scenario([{ messages: 2 }, { messages: 1, chaos: 'reset' }, { messages: 2 }, { messages: 1, chaos: 'reset-after-append' }])
      const shipper = await startSyslogNgStream(`network("127.0.0.1" port(${l.tcp}) transport("tcp"))`)
      defer(shipper.stop)
      const stored = await slowly(l, shipper.file, 8)
      expect(stored).toEqual(['1', '2', '4', '5', '6', '7', '8'])
      expect((await l.streams()).recent.map((connection) => connection.endedBy)).toEqual(['reset', 'reset-after-append'])
    }, 30_000)

    it('network(), stall then reset: hundreds of lines lost, and syslog-ng itself reports none dropped', async ({ defer, expect }) => {
      const l = await listening(defer)
      await l.app.inject({ method: 'PUT', url: '/scorecard/ng-loss' })
      await l.scenario(STALL_THEN_RESET)
      const shipper = await startSyslogNgStream(`network("127.0.0.1" port(${l.tcp}) transport("tcp"))`)
      defer(shipper.stop)
      await writeCanary(shipper.file, 'ng-loss', 3000)
      const report = await settled(l.app, 'ng-loss')
      const stats = await shipper.stats()
      // logfire's side: what arrived, and what it saw cut.
      expect(report.unique).toBeGreaterThanOrEqual(500)
      expect(3000 - report.unique).toBeGreaterThanOrEqual(300)
      const cut = (await l.streams()).recent.find((connection) => connection.endedBy === 'stall, reset')
      expect(cut).toMatchObject({ stored: 500 })
      // syslog-ng's side: every line written, none dropped, nothing queued.
      expect(stats).toMatchObject({ written: 3000, dropped: 0, queued: 0 })
    }, 60_000)
  })

  describe.skipIf(rsyslogStreamMissing !== undefined)(`rsyslog omfwd${rsyslogStreamMissing === undefined ? '' : ` (skipped: ${rsyslogStreamMissing})`}`, () => {
    for (const framing of ['traditional', 'octet-counted'] as const) {
      it(`TCP_Framing="${framing}": each line one entry, RFC 5424 header included`, async ({ defer, expect }) => {
        const l = await listening(defer)
        const shipper = await startRsyslogForward(l.tcp, framing)
        defer(shipper.stop)
        writeLines(shipper.file, [`${framing} one`, `${framing} two`])
        await until(async () => (await l.entries()).length === 2)
        const entries = await l.entries()
        expect(tail(entries)).toEqual([`${framing} one`, `${framing} two`])
        expect(entries[0]).toMatch(/^<\d+>1 \S+ \S+ canary - /)
      })
    }

    it('omfwd, stall then reset: hundreds of lines lost, and nothing retried', async ({ defer, expect }) => {
      const l = await listening(defer)
      await l.app.inject({ method: 'PUT', url: '/scorecard/rs-loss' })
      await l.scenario(STALL_THEN_RESET)
      const shipper = await startRsyslogForward(l.tcp, 'traditional')
      defer(shipper.stop)
      await writeCanary(shipper.file, 'rs-loss', 3000)
      const report = await settled(l.app, 'rs-loss', 4000)
      expect(report.unique).toBeGreaterThanOrEqual(500)
      expect(3000 - report.unique).toBeGreaterThanOrEqual(300)
      expect(report.duplicates).toBe(0)
      expect((await l.streams()).recent.find((connection) => connection.endedBy === 'stall, reset')).toMatchObject({ stored: 500 })
      // rsyslog's side: its omfwd action counts every line processed, none failed.
      await until(() => shipper.stats().processed === 3000)
      expect(shipper.stats()).toMatchObject({ processed: 3000, failed: 0 })
    }, 60_000)
  })
})
