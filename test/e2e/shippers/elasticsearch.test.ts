import { Client } from '@elastic/elasticsearch'
import pinoElasticModule from 'pino-elasticsearch'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { NO_BATCH_CHAOS } from '../../../src/fire/batches.js'
import { eventually, lines, startLogfire, type Logfire } from './harness.js'

// CommonJS typed as ESM: the default import is module.exports, the function itself.
const pinoElastic = pinoElasticModule as unknown as typeof pinoElasticModule.default

const stored = (entries: string[]) => entries.map((entry) => JSON.parse(entry) as Record<string, unknown>)

describe('Elasticsearch clients into /es', () => {
  let logfire: Logfire
  afterEach(async () => { await logfire.close() })

  const client = (options: { retries?: number } = {}) =>
    new Client({ node: `${logfire.base}/es`, maxRetries: options.retries ?? 3, auth: { username: 'elastic', password: 'ingest-s3cret' } })

  it("@elastic/elasticsearch's helpers.bulk lands every document exactly once with 30% of items refused 429: it retries only those", async () => {
    logfire = await startLogfire({ ingestToken: 'ingest-s3cret', batches: { ...NO_BATCH_CHAOS, itemRejectRate: 0.3 } })
    const es = client()
    expect((await es.info()).version.number).toMatch(/^9\./)
    const sent = lines('bulk doc', 300).map((message) => ({ message }))
    const dropped: number[] = []
    const stats = await es.helpers.bulk({
      datasource: sent,
      flushBytes: 2000,
      onDocument: () => ({ create: { _index: 'helpers' } }),
      onDrop: (drop) => { dropped.push(drop.status) },
      retries: 20,
      wait: 5
    })
    expect(dropped).toEqual([])
    expect(stats).toMatchObject({ total: 300, successful: 300, failed: 0 })
    expect(stats.retry).toBeGreaterThan(0)
    const messages = stored(await logfire.entries()).map((entry) => entry.message)
    expect([...messages].sort()).toEqual(sent.map((doc) => doc.message).sort())
    expect(new Set(messages).size).toBe(300)
  })

  it('drops a 400 or a 409 item with onDrop, as Elasticsearch clients do, and stores the rest', async () => {
    logfire = await startLogfire({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 0.5, itemRejectStatuses: [400, 409] } })
    const dropped: Array<{ status: number, type: string | undefined }> = []
    const stats = await client().helpers.bulk({
      datasource: lines('doc', 40).map((message) => ({ message })),
      onDocument: () => ({ index: { _index: 'drops' } }),
      onDrop: (drop) => { dropped.push({ status: drop.status, type: drop.error?.type }) },
      retries: 3,
      wait: 5
    })
    expect(dropped.length).toBeGreaterThan(5)
    expect(new Set(dropped.map((drop) => `${drop.status} ${drop.type}`))).toEqual(new Set(['400 mapper_parsing_exception', '409 version_conflict_engine_exception']))
    expect(stats.successful).toBe(40 - dropped.length)
    expect(await logfire.entries()).toHaveLength(40 - dropped.length)
  })

  it("retries lp0's 503 up to maxRetries; a burn's 410 is not retried; neither stores anything", async () => {
    logfire = await startLogfire()
    const es = client({ retries: 2 })
    const operations = [{ index: { _index: 'fire' } }, { message: 'into the fire' }]
    await expect(es.bulk({ operations }, { headers: { 'x-logfire-chaos': 'fire' } })).rejects.toMatchObject({ meta: { statusCode: 503 } })
    expect(logfire.requests('POST', '/es/_bulk')).toHaveLength(3)
    await expect(es.bulk({ operations }, { headers: { 'x-logfire-chaos': 'burn' } })).rejects.toMatchObject({ meta: { statusCode: 410 } })
    expect(logfire.requests('POST', '/es/_bulk')).toHaveLength(4)
    expect(await logfire.entries()).toEqual([])
    await es.bulk({ operations })
    expect(stored(await logfire.entries())).toEqual([{ _index: 'fire', message: 'into the fire' }])
  })

  it('pino-elasticsearch ships pino lines and refreshes at the end', async () => {
    logfire = await startLogfire()
    const stream = pinoElastic({ node: `${logfire.base}/es`, index: 'pino', esVersion: 8, flushBytes: 10 })
    const errors: unknown[] = []
    stream.on('error', (error: unknown) => { errors.push(error) })
    const logger = pino({ base: undefined }, stream)
    const sent = lines('pino line', 5)
    for (const message of sent) logger.info(message)
    await eventually(async () => { expect(stored(await logfire.entries()).map((entry) => entry.msg)).toEqual(sent) })
    stream.end()
    await eventually(() => { expect(logfire.requests('POST', '/es/pino/_refresh').length + logfire.requests('GET', '/es/pino/_refresh').length).toBe(1) })
    expect(errors).toEqual([])
    expect(stored(await logfire.entries())[0]).toMatchObject({ _index: 'pino', level: 30, msg: 'pino line 1' })
  })

  it('pino-elasticsearch reports an item refused 400 as an insertError', async () => {
    logfire = await startLogfire({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 1, itemRejectStatuses: [400] } })
    const stream = pinoElastic({ node: `${logfire.base}/es`, index: 'pino', esVersion: 8, flushBytes: 10 })
    const refused: unknown[] = []
    stream.on('insertError', (error: unknown) => { refused.push(error) })
    pino({ base: undefined }, stream).info('refused line')
    await eventually(() => { expect(refused).toHaveLength(1) })
    expect(await logfire.entries()).toEqual([])
  })
})
