import { afterEach, describe, expect, it } from 'vitest'
import { NO_BATCH_CHAOS } from '../../../src/fire/batches.js'
import { parseScenario } from '../../../src/scenario/document.js'
import { eventually, lines, startLogfire, type Logfire } from './harness.js'
import { rsyslogMissing, startRsyslog } from './rsyslog.js'

const messages = (entries: string[]) => entries.map((entry) => (JSON.parse(entry) as { message: string }).message.trim())

describe.skipIf(rsyslogMissing !== undefined)(`rsyslog's omelasticsearch, bulkmode="on" ${rsyslogMissing ?? ''}`, () => {
  let logfire: Logfire
  let rsyslog: Awaited<ReturnType<typeof startRsyslog>> | undefined
  afterEach(async () => {
    await rsyslog?.stop()
    rsyslog = undefined
    await logfire.close()
  })

  it('delivers lines in order, exactly once, through POST /_bulk; its _type is ignored', async () => {
    logfire = await startLogfire()
    rsyslog = await startRsyslog(logfire.port)
    const sent = lines('rsyslog line', 10)
    await rsyslog.send(...sent)
    await eventually(async () => { expect(messages(await logfire.entries())).toEqual(sent) })
    expect(JSON.parse((await logfire.entries())[0] as string)).toMatchObject({ _index: 'rsyslog' })
    expect(logfire.requests('POST', '/_bulk').length).toBeGreaterThan(0)
  })

  it('loses batches lp0 refused whole (a 503): rsyslog 8.2302 writes them to its errorfile instead of retrying', async () => {
    // Its first two batches meet lp0 whatever else is numbered meanwhile (the
    // test's own reads draw request numbers too, so a seeded roll would vary).
    logfire = await startLogfire({}, { scenario: parseScenario(JSON.stringify({ steps: [{ requests: 2, chaos: 'fire', match: { route: '/_bulk', method: 'POST' } }] }), 'rsyslog-fire.json') })
    rsyslog = await startRsyslog(logfire.port)
    const sent = lines('through the fire', 6)
    for (const line of sent) await rsyslog.send(line)
    const r = rsyslog
    await eventually(async () => {
      expect([...messages(await logfire.entries()), ...r.lost().map((lost) => lost.message)].sort()).toEqual(sent)
    }, 15_000)
    expect(r.lost().length).toBeGreaterThan(0)
    expect(r.lost()[0]).toMatchObject({ status: 503, type: 'unavailable_shards_exception' })
    expect(logfire.events('fire').length).toBeGreaterThan(0)
  })

  it('loses the items refused one by one when others in the batch landed: they go to its errorfile, never retried', async () => {
    logfire = await startLogfire({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 0.5 }, seed: 'rsyslog-items' })
    rsyslog = await startRsyslog(logfire.port)
    const sent = lines('half of these', 20)
    await rsyslog.send(...sent)
    const r = rsyslog
    await eventually(async () => {
      expect([...messages(await logfire.entries()), ...r.lost().map((lost) => lost.message)].sort()).toEqual([...sent].sort())
    }, 15_000)
    expect(r.lost().length).toBeGreaterThan(0)
    expect(r.lost().every((lost) => lost.status === 429 && lost.type === 'es_rejected_execution_exception')).toBe(true)
  })
})
