import { pino } from 'pino'
import { createWriteStream } from 'pino-http-send'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, lines, startLogfire, type Logfire } from './harness.js'

describe('pino with pino-http-send into POST /logs', () => {
  let logfire: Logfire
  afterEach(async () => { await logfire.close() })

  // pino-http-send keeps its settings in module state, so these run one at a time.
  it.each(['json', 'ndjson'] as const)('delivers the %s body type in order, exactly once', async (bodyType) => {
    logfire = await startLogfire({ ingestToken: 'pino-s3cret' })
    const sent = lines(`pino ${bodyType}`, 5)
    const logger = pino(createWriteStream({
      url: `${logfire.base}/logs`,
      bodyType,
      headers: { authorization: 'Bearer pino-s3cret' },
      batchSize: sent.length,
      timeout: 100,
      retries: 0
    }))
    for (const msg of sent) logger.info(msg)
    await eventually(async () => expect((await logfire.entries()).map((e) => JSON.parse(e).msg)).toEqual(sent))
    expect(logfire.posts('/logs').map((r) => r.statusCode)).toEqual([200])
  })

  it('counts a garbled 200 as a failure and resends it: every attempt was stored, so the batch is in the chain once per attempt', async () => {
    logfire = await startLogfire()
    const logger = pino(createWriteStream({
      url: `${logfire.base}/logs`,
      bodyType: 'json',
      headers: { 'x-logfire-chaos': 'garbage' },
      batchSize: 1,
      timeout: 100,
      retries: 2,
      interval: 100,
      silent: true
    }))
    logger.info('garbled')
    // The first attempt and its two retries; then pino-http-send drops the batch.
    await eventually(() => expect(logfire.events('fault')).toHaveLength(3))
    await sleep(500)
    expect(logfire.events('fault').map((event) => event.data.fault.name)).toEqual(['garbage', 'garbage', 'garbage'])
    expect((await logfire.entries()).map((e) => JSON.parse(e).msg)).toEqual(['garbled', 'garbled', 'garbled'])
  })
})
