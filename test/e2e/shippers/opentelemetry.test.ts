import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { OTLPLogExporter as JsonExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { OTLPLogExporter as ProtoExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import { LoggerProvider, type LogRecordExporter, type SdkLogRecord } from '@opentelemetry/sdk-logs'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { NO_BATCH_CHAOS } from '../../../src/fire/batches.js'
import { eventually, startLogfire, type Logfire } from './harness.js'

type Exporter = new (config: { url: string, compression?: 'gzip' | 'none', timeoutMillis?: number, headers?: Record<string, string> }) => LogRecordExporter

const EXPORTERS: Array<[string, Exporter, string]> = [
  ['exporter-logs-otlp-http (JSON)', JsonExporter as Exporter, 'application/json'],
  ['exporter-logs-otlp-proto (protobuf)', ProtoExporter as Exporter, 'application/x-protobuf']
]

/**
 * Emits records through the SDK's logger into `exporter`, as one batch, and
 * resolves with what the exporter reported: success, or the batch lost.
 */
function exportBatch (exporter: LogRecordExporter, bodies: string[]): Promise<ExportResult> {
  return new Promise((resolve) => {
    const batch: SdkLogRecord[] = []
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'checkout' }),
      processors: [{ onEmit: (record) => { batch.push(record) }, forceFlush: async () => {}, shutdown: async () => {} }]
    })
    const logger = provider.getLogger('otel-test', '1.2.3')
    for (const body of bodies) {
      logger.emit({ body, severityNumber: 17, severityText: 'ERROR', timestamp: new Date('2026-12-03T10:00:00.250Z'), attributes: { 'http.status': 503, nested: { deep: [true, 1.5] } } })
    }
    exporter.export(batch, resolve)
  })
}

describe('OpenTelemetry exporters into POST /v1/logs', () => {
  let logfire: Logfire
  afterEach(async () => { await logfire.close() })
  const url = () => `${logfire.base}/v1/logs`

  describe.each(EXPORTERS)('%s', (_name, Exporter, contentType) => {
    it.each(['none', 'gzip'] as const)('delivers every record, with compression %s, stored in the documented shape', async (compression) => {
      logfire = await startLogfire({ ingestToken: 'otel-s3cret' })
      const result = await exportBatch(new Exporter({ url: url(), compression, headers: { Authorization: 'Bearer otel-s3cret' } }), ['first', 'second'])
      expect(result.code).toBe(ExportResultCode.SUCCESS)
      const entries = (await logfire.entries()).map((entry) => JSON.parse(entry))
      expect(entries).toEqual(['first', 'second'].map((body) => ({
        time: '2026-12-03T10:00:00.250000000Z',
        severity: 'ERROR',
        severityNumber: 17,
        body,
        attributes: { 'http.status': 503, nested: { deep: [true, 1.5] } },
        resource: expect.objectContaining({ 'service.name': 'checkout' }),
        scope: { name: 'otel-test', version: '1.2.3' }
      })))
      expect(logfire.requests('POST', '/v1/logs')).toHaveLength(1)
      expect(logfire.headersOf('/v1/logs')[0]).toMatchObject({ 'content-type': contentType, ...(compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}) })
    })

    it('retries a 503 with Retry-After: 1 and lands the batch', async () => {
      logfire = await startLogfire({ faults: { ...(await import('../../../src/fire/faults.js')).NO_FAULT_SETTINGS, statusRate: 1, statusCodes: [503] } })
      // The fault off once it has struck: the retry, a second later, lands.
      let stopped: Promise<unknown> | undefined
      const watching = setInterval(() => {
        if (logfire.events('fault').length > 0) stopped ??= logfire.app.inject({ method: 'PATCH', url: '/admin/chaos', payload: { statusRate: 0 }, headers: { authorization: 'Bearer admin-token' } })
      }, 20)
      const result = await exportBatch(new Exporter({ url: url() }), ['after one retry'])
      clearInterval(watching)
      await stopped
      expect(result.code).toBe(ExportResultCode.SUCCESS)
      expect(logfire.requests('POST', '/v1/logs').map((line) => line.statusCode)).toEqual([503, 200])
      expect((await logfire.entries()).map((entry) => JSON.parse(entry).body)).toEqual(['after one retry'])
    })

    it("loses the batch when lp0's Retry-After (5 s) is past the export's deadline: the exporter gives up, nothing is stored", async () => {
      logfire = await startLogfire({ fireRate: 1 })
      const result = await exportBatch(new Exporter({ url: url(), timeoutMillis: 3000 }), ['never stored'])
      expect(result.code).toBe(ExportResultCode.FAILED)
      expect(logfire.requests('POST', '/v1/logs').map((line) => line.statusCode)).toEqual([503])
      expect(await logfire.entries()).toEqual([])
    })

    it('takes a partialSuccess as success and never retries the refused records: they are lost, and the scorecard says so', async () => {
      logfire = await startLogfire({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 0.5 }, seed: 'otel-partial' })
      const bodies = Array.from({ length: 20 }, (_, i) => `record ${i + 1}`)
      const result = await exportBatch(new Exporter({ url: url() }), bodies)
      expect(result.code).toBe(ExportResultCode.SUCCESS)
      expect(logfire.requests('POST', '/v1/logs')).toHaveLength(1)
      const stored = (await logfire.entries()).map((entry) => JSON.parse(entry).body)
      expect(stored.length).toBeGreaterThan(3)
      expect(stored.length).toBeLessThan(17)
    })
  })

  it('pino-opentelemetry-transport (protobuf by default) ships pino lines with their level and fields', async () => {
    logfire = await startLogfire()
    const transport = pino.transport({
      target: 'pino-opentelemetry-transport',
      options: {
        loggerName: 'pino-otel',
        resourceAttributes: { 'service.name': 'pino-service' },
        logRecordProcessorOptions: { recordProcessorType: 'simple', exporterOptions: { protobufExporterOptions: { url: url() } } }
      }
    })
    const logger = pino(transport)
    logger.warn({ order: { id: 42 } }, 'pino over OTLP')
    await eventually(async () => { expect(await logfire.entries()).toHaveLength(1) })
    expect(logfire.headersOf('/v1/logs')[0]).toMatchObject({ 'content-type': 'application/x-protobuf', 'transfer-encoding': 'chunked' })
    logger.flush()
    transport.end()
    expect(JSON.parse((await logfire.entries())[0] as string)).toMatchObject({
      severity: 'warn',
      severityNumber: 13,
      body: 'pino over OTLP',
      attributes: { order: { id: 42 } },
      resource: { 'service.name': 'pino-service' },
      scope: { name: 'pino-otel' }
    })
  })
})
