import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect } from 'vitest'
import { it, type Defer } from '../../defer.js'
import { eventually, lines, startLogfire, type Logfire } from './harness.js'
import { startSyslogNg, syslogNgMissing } from './syslog-ng.js'

const title = syslogNgMissing === undefined
  ? 'syslog-ng http() into logfire'
  : `syslog-ng http() into logfire (skipped: Debian package ${syslogNgMissing} missing; .ci/run installs it)`

async function setUp (defer: Defer, destination: (logfire: Logfire) => string, overrides: Parameters<typeof startLogfire>[0] = {}) {
  const logfire = await startLogfire(overrides)
  defer(logfire.close)
  const syslogNg = startSyslogNg(destination(logfire))
  defer(syslogNg.stop)
  return { logfire, syslogNg }
}

// Each test has its own logfire and syslog-ng, and spends most of its time
// waiting on syslog-ng's time-reopen(1): they run side by side.
describe.skipIf(syslogNgMissing !== undefined)(title, { concurrent: true }, () => {
  it('delivers one message per request by default, in order, exactly once', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) => `url("${l.base}/logs") body("\${MSG}")`)
    const sent = lines('syslog-ng single', 5)
    syslogNg.send(...sent)
    await eventually(async () => expect(await logfire.entries()).toEqual(sent))
    expect(logfire.posts('/logs')).toHaveLength(5)
  })

  it('delivers batches as NDJSON, one request per batch, with docs/shippers.md\'s config', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) => `url("${l.base}/logs")
      body("$(format-json --scope rfc5424 --key ISODATE)") batch-lines(4) batch-timeout(200)
      headers("Authorization: Bearer syslog-s3cret")`, { ingestToken: 'syslog-s3cret' })
    const sent = lines('syslog-ng batched', 10)
    syslogNg.send(...sent)
    await eventually(async () => expect((await logfire.entries()).map((e) => JSON.parse(e).MESSAGE)).toEqual(sent))
    expect(logfire.posts('/logs').length).toBeLessThanOrEqual(3)
  })

  it('resends after a 503 until it lands, exactly once', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) =>
      `url("${l.base}/logs") body("\${MSG}") headers("X-Logfire-Chaos: fire")`)
    syslogNg.send('printer fire drill')
    // Two fires: the first attempt and at least one resend after time-reopen.
    await eventually(() => expect(logfire.events('fire').length).toBeGreaterThanOrEqual(2))
    expect(await logfire.entries()).toEqual([])

    await logfire.ignoreChaosHeader()
    await eventually(async () => expect(await logfire.entries()).toEqual(['printer fire drill']))
    await sleep(1500) // past time-reopen: nothing more is resent
    expect(await logfire.entries()).toEqual(['printer fire drill'])
    expect(logfire.posts('/logs').map((r) => r.statusCode).at(-1)).toBe(200)
  })

  it('drops the batch after a 410, and never resends it', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) =>
      `url("${l.base}/logs") body("\${MSG}") headers("X-Logfire-Chaos: wipe")`)
    syslogNg.send('doomed line')
    await eventually(() => expect(logfire.events('burn')).toHaveLength(1))

    await logfire.ignoreChaosHeader()
    syslogNg.send('survivor line')
    await eventually(async () => expect(await logfire.entries()).toEqual(['survivor line']))
    await sleep(1500)
    expect(await logfire.entries()).toEqual(['survivor line'])
    expect(logfire.posts('/logs').map((r) => r.statusCode)).toEqual([410, 200])
  })
})

describe.skipIf(syslogNgMissing !== undefined)(`${title}: faults below the status line`, { concurrent: true }, () => {
  /** The fault goes on every request until the first one meets it; then the speaker turns the header off. */
  async function afterFirstFault (logfire: Logfire, fault: string): Promise<void> {
    await eventually(() => expect(logfire.events('fault').map((event) => event.data.fault.name)).toContain(fault))
    await logfire.ignoreChaosHeader()
    await eventually(() => expect(logfire.posts('/logs').at(-1)?.statusCode).toBe(200))
    await sleep(1500) // past time-reopen: nothing more is resent
  }

  it('resends a batch that was stored before the connection reset: the line is in the chain twice', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) => `url("${l.base}/logs") body("\${MSG}") headers("X-Logfire-Chaos: reset-after-append")`)
    syslogNg.send('stored, then reset')
    await afterFirstFault(logfire, 'reset-after-append')
    const resets = logfire.events('fault').length
    expect(resets).toBeGreaterThanOrEqual(1)
    // Once per reset, and once more for the resend that was answered.
    expect(await logfire.entries()).toEqual(Array.from({ length: resets + 1 }, () => 'stored, then reset'))
  })

  it('resends a batch reset before it was read: the line lands exactly once', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) => `url("${l.base}/logs") body("\${MSG}") headers("X-Logfire-Chaos: reset")`)
    syslogNg.send('reset, then resent')
    await afterFirstFault(logfire, 'reset')
    expect(await logfire.entries()).toEqual(['reset, then resent'])
  })

  it('resends after a connection closed with no answer: the line lands exactly once', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) => `url("${l.base}/logs") body("\${MSG}") headers("X-Logfire-Chaos: close")`)
    syslogNg.send('closed on, then resent')
    await afterFirstFault(logfire, 'close')
    expect(await logfire.entries()).toEqual(['closed on, then resent'])
  })

  it('resends after a garbled 200: that line was stored, so it is in the chain twice', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) => `url("${l.base}/logs") body("\${MSG}") headers("X-Logfire-Chaos: garbage")`)
    syslogNg.send('garbled, then resent')
    await afterFirstFault(logfire, 'garbage')
    const garbled = logfire.events('fault').length
    expect(await logfire.entries()).toEqual(Array.from({ length: garbled + 1 }, () => 'garbled, then resent'))
  })

  it('gives up on a hung request at its timeout(), resends, and the line lands exactly once', async ({ defer, expect }) => {
    const { logfire, syslogNg } = await setUp(defer, (l) => `url("${l.base}/logs") body("\${MSG}") timeout(1) headers("X-Logfire-Chaos: hang")`)
    syslogNg.send('hung, then resent')
    await afterFirstFault(logfire, 'hang')
    expect(await logfire.entries()).toEqual(['hung, then resent'])
  })
})
