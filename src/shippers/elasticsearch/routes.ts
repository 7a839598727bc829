import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { EmptyBody, UnsupportedMediaType } from '../../errors.js'
import type { ItemRejectStatus } from '../../fire/batches.js'
import { errorReplier } from '../../http/errors.js'
import { documented, chaosErrors, CHAOS_HEADERS, optionalToken, INGEST_HEADERS } from '../../http/responses.js'
import { basicPassword, bearerToken, schemeCredentials } from '../../http/tokens.js'
import { tokenGuard } from '../../http/token-guard.js'
import { appendExcept } from '../../ingest/append.js'
import { refusedItems } from '../../ingest/batch-chaos.js'
import { utf8Text } from '../../ingest/body.js'
import { decodeBody } from '../../ingest/decode.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { classifyMediaType } from '../../ingest/media-type.js'
import { parseBodiesWith } from '../../ingest/parser.js'
import { parseBulk, type BulkItem, type ItemError } from './bulk.js'
import { bulkReply, esErrorBody, refusal } from './replies.js'

/** Where Elasticsearch's API is served in full; `POST /_bulk` also works at the root. */
export const ES_PREFIX = '/es'

// Elasticsearch clients send the token as basic auth's password, an API key, or a bearer token.
const esToken = (request: FastifyRequest): string | undefined =>
  basicPassword(request.headers.authorization) ??
  schemeCredentials(request.headers.authorization, 'ApiKey') ??
  bearerToken(request.headers.authorization)

/** The official clients and Logstash refuse to talk to a server without it. */
export function elasticProduct (app: FastifyInstance): void {
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-elastic-product', 'Elasticsearch')
    done(null, payload)
  })
}

const NDJSON = z.string().describe('NDJSON action and source line pairs: {"index":{"_index":"logs"}}\\n{"message":"a line"}\\n; a delete has no source line')
const BULK_BODY = {
  'application/x-ndjson': NDJSON,
  'application/json': NDJSON.describe('The same NDJSON, as Logstash, Filebeat and rsyslog label it'),
  'application/vnd.elasticsearch+x-ndjson': NDJSON.describe('The official client: ...; compatible-with=8 or 9')
}
const bulkResult = z.looseObject({
  took: z.number().int(),
  errors: z.boolean().describe('true when any item was refused'),
  items: z.array(z.record(z.string(), z.looseObject({ _index: z.string(), status: z.number().int() })))
    .describe('One per action, in request order: {"index":{"_index","_id","result":"created","status":201}}, or {"create":{"status":429,"error":{"type":"es_rejected_execution_exception"}}}')
})
const esError = z.looseObject({ error: z.looseObject({ type: z.string(), reason: z.string() }), status: z.number().int() })

/**
 * Elasticsearch's `_bulk`, so Fluent Bit's es output, Vector, Logstash,
 * Filebeat, rsyslog's omelasticsearch and the official client need only the
 * URL changed. Errors are in Elasticsearch's shape, with logfire's inside.
 * The request meets the whole chaos as any ingest request does; then
 * itemRejectRate refuses single items, as a busy cluster does, and only the
 * others are stored.
 */
export const esBulkRoutes: FastifyPluginAsync<IngestOptions & { withIndex: boolean }> = async (app, options) => {
  app.setErrorHandler(errorReplier(options.limits.maxBodyBytes, esErrorBody))
  elasticProduct(app)
  parseBodiesWith(app, (raw, headers) => {
    if (classifyMediaType(headers.contentType) === 'binary') throw new UnsupportedMediaType(headers.contentType, 'send NDJSON')
    const bytes = decodeBody(raw, headers.contentEncoding, options.limits.maxBodyBytes)
    return utf8Text({ kind: 'text', bytes, contentType: headers.contentType })
  })
  const onRequest = tokenGuard({
    expected: options.ingestToken,
    present: esToken,
    hint: 'basic auth with LOGFIRE_INGEST_TOKEN as the password, Authorization: ApiKey <token>, or Bearer <token>',
    challenge: 'Basic realm="logfire ingest"'
  })

  const bulk = async (request: FastifyRequest, reply: FastifyReply) => {
    const started = request.fire.clock()
    if (typeof request.body !== 'string') throw new EmptyBody()
    const items = parseBulk(request.body, (request.params as { index?: string }).index, options.limits.maxEntryBytes)
    const accepted = items.filter((item) => item.error === undefined)
    const refused = refusedItems(request.fire, request, accepted.length)
    const appended = appendExcept(request.fire, accepted.map((item) => item.entry), refused, request)
    const settled = appended instanceof Promise ? await appended : appended
    reply.type('application/json')
    return bulkReply(items, fates(items, refused, settled === undefined ? 0 : settled.length - settled.slice.count), request.fire.clock() - started)
  }

  const schema = (summary: string) => ({
    tags: ['ingest'],
    summary,
    description: 'Errors of single items come back in a 200, as Elasticsearch answers them: itemRejectRate refuses a seeded share with 429 es_rejected_execution_exception (or itemRejectStatuses), and only the others are stored. Each stored entry is the source document as JSON, led by "_index", "_id" when sent, and "_op" for update and delete.',
    security: optionalToken('ingestBearer'),
    response: {
      200: documented(bulkResult, 'Every item, in order; "errors":true when any was refused', CHAOS_HEADERS),
      ...chaosErrors({ ingest: true, guarded: true, shape: esError })
    }
  })
  const config = { docs: { chaos: true, headers: INGEST_HEADERS, body: BULK_BODY } }
  for (const url of options.withIndex ? ['/_bulk', '/:index/_bulk'] : ['/_bulk']) {
    app.post(url, { onRequest, config, schema: schema(url === '/_bulk' ? 'Elasticsearch bulk' : 'Elasticsearch bulk, into an index') }, bulk)
  }
}

// Each item's fate: stored as block N, refused by the chaos, or refused for what it holds.
function fates (items: readonly BulkItem[], refused: ReadonlyArray<{ index: number, status: ItemRejectStatus }>, firstBlock: number) {
  const refusedAt = new Map(refused.map((item) => [item.index, item.status]))
  const outcomes: Array<{ block: number } | { error: ItemError }> = []
  let accepted = 0
  let block = firstBlock
  for (const item of items) {
    if (item.error !== undefined) { outcomes.push({ error: item.error }); continue }
    const status = refusedAt.get(accepted++)
    outcomes.push(status === undefined ? { block: block++ } : { error: refusal(status) })
  }
  return (index: number) => outcomes[index] as { block: number } | { error: ItemError }
}
