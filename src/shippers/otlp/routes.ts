import type { FastifyError, FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { tooManyEntries, UnsupportedMediaType } from '../../errors.js'
import { errorReplier } from '../../http/errors.js'
import { documented, chaosErrors, CHAOS_HEADERS, optionalToken, INGEST_HEADERS } from '../../http/responses.js'
import { bearerToken } from '../../http/tokens.js'
import { tokenGuard } from '../../http/token-guard.js'
import { appendExcept } from '../../ingest/append.js'
import { refusedItems } from '../../ingest/batch-chaos.js'
import { decodeBody } from '../../ingest/decode.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { parseBodiesWith, requestEntries } from '../../ingest/parser.js'
import { logEntries } from './records.js'
import { CONTENT_TYPES, encodingOf, exportResponse, statusBody } from './replies.js'
import { decodeExportRequest, loadOtlpSchema, recordCount } from './schema.js'

const EXPORT_REQUEST = z.string().describe('ExportLogsServiceRequest: one entry per log record, stored as compact JSON (see docs/shippers.md)')
const exportResult = z.looseObject({
  partialSuccess: z.looseObject({ rejectedLogRecords: z.string(), errorMessage: z.string() }).optional()
    .describe('Set when itemRejectRate refused records: they were not stored, and the exporter must not retry them')
})
const rpcStatus = z.looseObject({ code: z.number().int(), message: z.string() })

/**
 * OTLP/HTTP logs, so every OpenTelemetry SDK and the Collector need only the
 * endpoint changed. Protobuf or JSON, gzip or not, chunked or not: the reply
 * is in the request's encoding, errors as google.rpc.Status. The request
 * meets the whole chaos; then itemRejectRate refuses single records with a
 * 200 and partialSuccess, which exporters never retry: a silent loss.
 */
export const otlpRoutes: FastifyPluginAsync<IngestOptions & { maxBlocks: number }> = async (app, options) => {
  const schema = loadOtlpSchema()
  const encodingFor = (contentType: string | undefined) => encodingOf(contentType) ?? 'json'
  const replyWithError = (encoding: 'json' | 'protobuf') => errorReplier(options.limits.maxBodyBytes, (body) => statusBody(schema, encoding, body))
  app.setErrorHandler((error, request, reply) => {
    const encoding = encodingFor(request.headers['content-type'])
    reply.type(CONTENT_TYPES[encoding])
    replyWithError(encoding)(error as FastifyError, request, reply)
  })
  parseBodiesWith(app, (raw, headers, request) => {
    const encoding = encodingOf(headers.contentType)
    if (encoding === undefined) throw new UnsupportedMediaType(headers.contentType, 'send application/x-protobuf or application/json')
    const bytes = decodeBody(raw, headers.contentEncoding, options.limits.maxBodyBytes)
    // More records than the batch limit, or than the chain can hold, are refused before they are decoded.
    const { maxEntriesPerRequest } = request.fire.settings
    const limit = maxEntriesPerRequest > 0 ? Math.min(maxEntriesPerRequest, options.maxBlocks) : options.maxBlocks
    if (encoding === 'protobuf') {
      const count = recordCount(bytes)
      if (count > limit) throw tooManyEntries(count, limit)
    }
    return logEntries(decodeExportRequest(schema, encoding, bytes))
  })
  const onRequest = tokenGuard({
    expected: options.ingestToken,
    present: (request) => bearerToken(request.headers.authorization),
    hint: 'Authorization: Bearer <LOGFIRE_INGEST_TOKEN> (OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>)',
    challenge: 'Bearer realm="logfire ingest"'
  })

  app.post('/v1/logs', {
    onRequest,
    config: { docs: { chaos: true, headers: INGEST_HEADERS, body: { 'application/x-protobuf': EXPORT_REQUEST, 'application/json': EXPORT_REQUEST } } },
    schema: {
      tags: ['ingest'],
      summary: 'OTLP/HTTP logs',
      description: 'Replies in the request\'s encoding. 410 (burn) and 451 (GDPR) keep their status: OTLP exporters retry only 429, 502, 503 and 504, so they drop the batch, as they would any permanent failure.',
      security: optionalToken('ingestBearer'),
      response: {
        200: documented(exportResult, 'ExportLogsServiceResponse: empty, or partialSuccess', CHAOS_HEADERS),
        ...chaosErrors({ ingest: true, guarded: true, shape: rpcStatus })
      }
    }
  }, async (request, reply) => {
    const entries = requestEntries(request)
    const refused = refusedItems(request.fire, request, entries.length).map((item) => ({ ...item, status: 200 }))
    const appended = appendExcept(request.fire, entries, refused, request)
    if (appended instanceof Promise) await appended
    const encoding = encodingFor(request.headers['content-type'])
    return reply.type(CONTENT_TYPES[encoding]).send(exportResponse(schema, encoding, refused.length))
  })
}
