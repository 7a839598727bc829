import { Logger as SplunkLogger } from 'splunk-logging'
import { afterEach, describe, expect, it } from 'vitest'
import { lines, startLogfire, type Logfire } from './harness.js'

describe("splunk-logging (Splunk's npm client) into logfire's HEC", () => {
  let logfire: Logfire
  afterEach(async () => { await logfire.close() })

  function splunk (options: { chaos?: string, batch?: number } = {}) {
    const logger = new SplunkLogger({ token: 'ingest-s3cret', url: logfire.base, maxBatchCount: options.batch ?? 1 })
    if (options.chaos !== undefined) logger.requestOptions.headers = { 'X-Logfire-Chaos': options.chaos }
    const errors: Array<{ message: string, code: number | undefined }> = []
    logger.error = (error) => { errors.push({ message: error.message, code: error.code }) }
    const send = (message: string) => new Promise<unknown>((resolve) => logger.send({ message, severity: 'info' }, (_error, _response, body) => resolve(body)))
    return { logger, errors, send }
  }

  it('delivers events in order, exactly once, with the token it sends', async () => {
    logfire = await startLogfire({ ingestToken: 'ingest-s3cret' })
    const { errors, send } = splunk()
    const sent = lines('splunk-logging', 5)
    for (const message of sent) expect(await send(message)).toEqual({ text: 'Success', code: 0 })
    expect(errors).toEqual([])
    expect(await logfire.entries()).toEqual(sent.map((message) => JSON.stringify({ message, severity: 'info' })))
  })

  it('delivers a batch of events concatenated in one request', async () => {
    logfire = await startLogfire()
    const { logger, errors } = splunk({ batch: 0 })
    const sent = lines('splunk batch', 4)
    for (const message of sent) logger.send({ message })
    await new Promise((resolve) => logger.flush(resolve))
    expect(errors).toEqual([])
    expect(await logfire.entries()).toEqual(sent.map((message) => JSON.stringify({ message, severity: 'info' })))
    expect(logfire.posts('/services/collector/event/1.0')).toHaveLength(1)
  })

  it('reports a 503 to its error callback, with HEC code 9', async () => {
    logfire = await startLogfire()
    const { errors, send } = splunk({ chaos: 'fire' })
    expect(await send('into the fire')).toMatchObject({ text: 'Server is busy', code: 9, logfire: { error: 'lp0 on fire' } })
    expect(errors).toEqual([{ message: 'Server is busy', code: 9 }])
    expect(await logfire.entries()).toEqual([])
  })

  it('reports a wrong token to its error callback, with HEC code 4', async () => {
    logfire = await startLogfire({ ingestToken: 'another-token' })
    const { errors, send } = splunk()
    await send('not allowed')
    expect(errors).toEqual([{ message: 'Invalid token', code: 4 }])
  })
})
