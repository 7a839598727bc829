import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import winston from 'winston'
import LokiTransport from 'winston-loki'
import { afterEach, describe, expect, it } from 'vitest'
import { eventually, lines, startLogfire, type Logfire } from './harness.js'

let logfire: Logfire
afterEach(async () => { await logfire.close() })

describe("winston's built-in Http transport into POST /logs", () => {
  function httpLogger (options: Partial<winston.transports.HttpTransportOptions> = {}) {
    const transport = new winston.transports.Http({ host: '127.0.0.1', port: logfire.port, path: '/logs', ...options })
    const logger = winston.createLogger({ transports: [transport] })
    // One log at a time: the transport fires requests without waiting, so
    // waiting for each 'logged' keeps them in order on the wire.
    const log = (message: string) => new Promise((resolve) => {
      transport.once('logged', resolve)
      logger.info(message, { service: 'e2e' })
    })
    return { logger, transport, log }
  }

  it('delivers each log as one JSON object, in order, exactly once, with its bearer token', async () => {
    logfire = await startLogfire({ ingestToken: 'winston-s3cret' })
    const { log } = httpLogger({ auth: { bearer: 'winston-s3cret' } })
    const sent = lines('winston', 5)
    for (const message of sent) await log(message)
    await eventually(async () => expect((await logfire.entries()).map((e) => JSON.parse(e).message)).toEqual(sent))
    expect(JSON.parse((await logfire.entries())[0] as string)).toEqual({ level: 'info', message: 'winston 1', service: 'e2e' })
    expect(logfire.posts('/logs').map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200])
  })

  it('warns when the connection closes with no answer, loses that log (it never retries), and carries on', async () => {
    logfire = await startLogfire()
    const { transport, logger } = httpLogger({ headers: { 'x-logfire-chaos': 'close' } })
    const warned = once(transport, 'warn')
    logger.info('into the void')
    const [warning] = await warned as [NodeJS.ErrnoException]
    expect(warning.code).toBe('ECONNRESET')
    await eventually(() => expect(logfire.events('fault').map((event) => event.data.fault.name)).toEqual(['close']))

    await logfire.ignoreChaosHeader()
    logger.info('after the void')
    await eventually(async () => expect((await logfire.entries()).map((e) => JSON.parse(e).message)).toEqual(['after the void']))
  })

  it.each([
    ['reset', 'ECONNRESET', 0],
    ['reset-after-append', 'ECONNRESET', 1],
    ['garbage', 'HPE_INVALID_CHUNK_SIZE', 1]
  ] as const)('warns on %s (%s) and never resends: the log is in the chain %i time(s)', async (fault, code, stored) => {
    logfire = await startLogfire()
    const { transport, logger } = httpLogger({ headers: { 'x-logfire-chaos': fault } })
    const warned = once(transport, 'warn')
    logger.info('one attempt only')
    const [warning] = await warned as [NodeJS.ErrnoException]
    expect(warning.code).toBe(code)
    await eventually(() => expect(logfire.events('fault')).toHaveLength(1))
    await sleep(300)
    expect(logfire.events('fault')).toHaveLength(1)
    expect(await logfire.entries()).toHaveLength(stored)
  })

  it('delivers batch mode as one JSON array', async () => {
    logfire = await startLogfire()
    const { logger } = httpLogger({ batch: true, batchCount: 4, batchInterval: 60_000 })
    const sent = lines('winston batch', 4)
    for (const message of sent) logger.info(message)
    await eventually(async () => expect((await logfire.entries()).map((e) => JSON.parse(e).message)).toEqual(sent))
    expect(logfire.posts('/logs')).toHaveLength(1)
  })
})

describe('winston-loki in JSON mode into the Loki push route', () => {
  it('delivers lines in order, exactly once', async () => {
    logfire = await startLogfire({ ingestToken: 'loki-s3cret' })
    const errors: unknown[] = []
    const transport = new LokiTransport({
      host: logfire.base,
      basicAuth: 'tenant:loki-s3cret',
      json: true,
      batching: true,
      interval: 0.2,
      labels: { job: 'e2e' },
      format: winston.format.printf((info) => String(info.message)),
      onConnectionError: (error) => errors.push(error)
    })
    const logger = winston.createLogger({ transports: [transport] })
    const sent = lines('winston-loki', 6)
    for (const message of sent) logger.info(message)
    await eventually(async () => expect(await logfire.entries()).toEqual(sent))
    expect(errors).toEqual([])
    expect(logfire.posts('/loki/api/v1/push').every((r) => r.statusCode === 204)).toBe(true)
    logger.close()
  })
})
