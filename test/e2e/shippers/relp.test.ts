import { describe } from 'vitest'
import { findToken } from '../../../src/scorecard/token.js'
import { it, type Defer } from '../../defer.js'
import { STREAMS, startListening, until, type Listening } from '../../listeners/listening.js'
import { omrelpMissing, settled, startRsyslogRelp, writeCanary } from './stream-shippers.js'

const title = omrelpMissing === undefined ? 'rsyslog omrelp into logfire\'s RELP listener' : `rsyslog omrelp (skipped: ${omrelpMissing})`

// Each test waits mostly on rsyslog's timers, with its own listener and rsyslogd: they run side by side.
describe.skipIf(omrelpMissing !== undefined)(title, { concurrent: true }, () => {
  async function pipeline (defer: Defer, steps: unknown[] | undefined, run: string) {
    const l = await startListening({ streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, relpPort: 0 } })
    defer(l.close)
    await l.app.inject({ method: 'PUT', url: `/scorecard/${run}` })
    if (steps !== undefined) await l.scenario(steps)
    const shipper = await startRsyslogRelp(l.relp)
    defer(shipper.stop)
    return { l, shipper }
  }

  /** What the chain holds of a run: distinct sequence numbers and extra copies. */
  async function inChain (l: Listening, run: string) {
    const seqs = (await l.entries()).map(findToken).filter((token) => typeof token === 'object' && token.run === run).map((token) => (token as { seq: number }).seq)
    return { unique: new Set(seqs).size, duplicates: seqs.length - new Set(seqs).size }
  }

  it('no fault: 3,000 of 3,000 lines land, once each, every one acknowledged', async ({ defer, expect }) => {
    const { l, shipper } = await pipeline(defer, undefined, 'relp-calm')
    await writeCanary(shipper.file, 'relp-calm', 3000)
    const report = await settled(l.app, 'relp-calm')
    expect(report).toMatchObject({ unique: 3000, duplicates: 0, missing: 0 })
    expect((await l.streams()).live[0]).toMatchObject({ protocol: 'relp', stored: 3000, unacknowledged: 0 })
  }, 60_000)

  it('reset-after-append at message 500: stored, its rsp never sent; rsyslog resends it, exactly one duplicate and no loss', async ({ defer, expect }) => {
    const { l, shipper } = await pipeline(defer, [{ messages: 499 }, { messages: 1, chaos: 'reset-after-append' }], 'relp-raa')
    await writeCanary(shipper.file, 'relp-raa', 3000)
    const report = await settled(l.app, 'relp-raa', 4000)
    expect(report).toMatchObject({ unique: 3000, missing: 0, duplicates: 1, duplicatesAfter: { 'relp reset-after-append': 1 } })
    expect(await inChain(l, 'relp-raa')).toEqual({ unique: 3000, duplicates: 1 })
  }, 60_000)

  it('nak for ten frames: rsp 500 for each, and the scorecard counts what the chain holds, whatever rsyslog does', async ({ defer, expect }) => {
    const { l, shipper } = await pipeline(defer, [{ messages: 499 }, { messages: 10, chaos: 'nak' }], 'relp-nak')
    await writeCanary(shipper.file, 'relp-nak', 3000)
    const report = await settled(l.app, 'relp-nak', 5000)
    const chain = await inChain(l, 'relp-nak')
    expect({ unique: report.unique, duplicates: report.duplicates }).toEqual(chain)
    expect(report.refusedLines['500']).toBe(10)
    // Whatever rsyslog resent after the naks is named for them.
    expect(report.duplicatesAfter).toEqual(report.duplicates === 0 ? {} : { 'relp nak': report.duplicates })
    const streams = await l.streams()
    expect([...streams.live, ...streams.recent].reduce((sum, connection) => sum + connection.refused.nak, 0)).toBe(10)
  }, 60_000)

  it('ack-loss: stored once, the session stays open, and rsyslog waits on the missing rsp', async ({ defer, expect }) => {
    const { l, shipper } = await pipeline(defer, [{ messages: 4 }, { messages: 1, chaos: 'ack-loss' }], 'relp-ack-loss')
    await writeCanary(shipper.file, 'relp-ack-loss', 20, 100)
    await until(async () => (await l.streams()).live[0]?.unacknowledged === 1)
    const report = await settled(l.app, 'relp-ack-loss', 2000)
    expect(report.duplicates).toBe(0)
    expect(report.unique).toBeGreaterThanOrEqual(5)
  }, 60_000)
})
