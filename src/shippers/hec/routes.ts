import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { documented, errorSchema, chaosErrors, CHAOS_HEADERS, optionalToken, INGEST_HEADERS } from '../../http/responses.js'
import { errorReplier } from '../../http/errors.js'
import { schemeCredentials } from '../../http/tokens.js'
import { tokenGuard } from '../../http/token-guard.js'
import { HecAckDisabled, HecChannelInvalid, HecChannelMissing, InvalidRequest } from '../../errors.js'
import { appendEntries, appendExcept } from '../../ingest/append.js'
import { ackFate } from '../../ingest/batch-chaos.js'
import type { BodyFormat } from '../../ingest/body.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { parseBodiesAs, parseBodiesWith, requestEntries } from '../../ingest/parser.js'
import { channelOf, type AckLedger } from './acks.js'
import { hecEventFormat, hecRawFormat } from './events.js'
import { HEC_HEALTHY, HEC_SUCCESS, hecErrorBody } from './replies.js'

const hecReply = z.looseObject({ text: z.string(), code: z.number().int() })
const hecError = hecReply.extend({
  'invalid-event-number': z.number().int().optional().describe('The event that was refused'),
  logfire: errorSchema.describe("logfire's own error, joke included")
})
const HEC_EVENTS = z.string().describe('HEC envelopes back to back, e.g. {"time":1700000000,"event":"a line"}{"event":{"msg":"an object"}}: one entry per event')
const HEC_DOCS = {
  tags: ['ingest'],
  security: optionalToken('splunkToken'),
  response: {
    200: documented(hecReply, 'Success: {"text":"Success","code":0}', CHAOS_HEADERS),
    ...chaosErrors({ ingest: true, guarded: true, shape: hecError })
  }
}

/**
 * Splunk's HTTP Event Collector, so HEC clients (splunk-logging, Fluent Bit's
 * splunk output, Vector's splunk_hec sink) need nothing changed but the URL.
 * Every error is in HEC's shape: HEC clients only see a failure in `code`.
 */
export const hecRoutes: FastifyPluginAsync<IngestOptions & { acks: AckLedger | undefined }> = async (app, options) => {
  const { acks } = options
  app.setErrorHandler(errorReplier(options.limits.maxBodyBytes, hecErrorBody))
  const onRequest = tokenGuard({
    expected: options.ingestToken,
    present: (request) => schemeCredentials(request.headers.authorization, 'Splunk'),
    hint: 'Authorization: Splunk <LOGFIRE_INGEST_TOKEN>'
  })

  const collect = (format: BodyFormat, urls: string[], docs: { summary: string, body: Record<string, z.ZodType> }) => async (scope: FastifyInstance) => {
    parseBodiesAs(scope, format, options.limits)
    for (const url of urls) {
      scope.post(url, { onRequest, config: { docs: { chaos: true, headers: INGEST_HEADERS, body: docs.body } }, schema: { ...HEC_DOCS, summary: docs.summary } }, async (request, reply) => {
        reply.type('application/json; charset=utf-8')
        if (acks !== undefined) return await acknowledged(acks, request)
        const appended = appendEntries(request.fire, requestEntries(request), request)
        if (appended instanceof Promise) await appended
        return reply.send(HEC_SUCCESS)
      })
    }
  }
  // Ack mode: the request's channel gets an ackId, whose fate the chaos may
  // bend: lost (never stored, never true) or late (stored, true later).
  async function acknowledged (ledger: AckLedger, request: FastifyRequest): Promise<string> {
    const { channel } = requestChannel(request)
    const entries = requestEntries(request)
    const fate = ackFate(request.fire, request)
    const everything = fate.kind === 'lost' ? entries.map((_, index) => ({ index, status: 200 })) : []
    const appended = appendExcept(request.fire, entries, everything, request)
    if (appended instanceof Promise) await appended
    if (fate.kind === 'lost') request.log.warn({ ack: { fate: 'lost', request: request.requestNumber } }, 'ack lost')
    const now = request.fire.clock()
    const ackId = ledger.issue(channel, fate.kind === 'lost' ? Infinity : fate.kind === 'late' ? now + fate.ms : now)
    return `{"text":"Success","code":0,"ackId":${ackId}}`
  }

  await app.register(async (scope) => {
    parseBodiesWith(scope, (raw) => raw)
    scope.post('/services/collector/ack', {
      onRequest,
      schema: {
        tags: ['ingest'],
        summary: 'Splunk HEC: indexer acknowledgements',
        description: 'With LOGFIRE_HEC_ACK=true: {"acks":[0,1]} answers {"acks":{"0":true,"1":false}}. An id reported true is forgotten. ackLossRate and ackDelayRate bend the answers.',
        security: optionalToken('splunkToken'),
        response: {
          200: documented(z.object({ acks: z.record(z.string(), z.boolean()) }), 'Each id asked about: true once indexed', CHAOS_HEADERS),
          ...chaosErrors({ guarded: true, shape: hecError })
        }
      }
    }, async (request, reply) => {
      if (acks === undefined) throw new HecAckDisabled()
      const { channel } = requestChannel(request)
      return reply.type('application/json; charset=utf-8').send(JSON.stringify({ acks: acks.query(channel, ackIds(request.body)) }))
    })
  })

  await app.register(collect(hecEventFormat, ['/services/collector', '/services/collector/event', '/services/collector/event/1.0'], {
    summary: 'Splunk HEC: JSON events',
    body: { 'application/json': HEC_EVENTS, 'application/x-www-form-urlencoded': HEC_EVENTS }
  }))
  await app.register(collect(hecRawFormat, ['/services/collector/raw', '/services/collector/raw/1.0'], {
    summary: 'Splunk HEC: raw lines',
    body: { 'text/plain': z.string().describe('One entry per non-blank line') }
  }))
}

function requestChannel (request: FastifyRequest): { channel: string } {
  const header = request.headers['x-splunk-request-channel']
  const found = channelOf(typeof header === 'string' ? header : (request.query as { channel?: string }).channel)
  if (found === 'missing') throw new HecChannelMissing()
  if (found === 'invalid') throw new HecChannelInvalid()
  return found
}

// {"acks":[0,1,2]}: at most 10,000 ids, each a whole number.
function ackIds (body: unknown): number[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '')
  } catch {
    throw new InvalidRequest('the body must be {"acks":[ids]}')
  }
  const ids = (parsed as { acks?: unknown } | null)?.acks
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 10_000 || !ids.every((id) => Number.isSafeInteger(id) && id >= 0)) {
    throw new InvalidRequest('acks must be a list of 1 to 10,000 ackIds')
  }
  return ids as number[]
}

/** HEC's health check, which Vector and others call before sending: outside the fire, and open. */
export async function hecHealthRoutes (app: FastifyInstance) {
  for (const url of ['/services/collector/health', '/services/collector/health/1.0']) {
    app.get(url, {
      schema: { tags: ['ingest'], summary: 'Splunk HEC: health check', response: { 200: documented(hecReply, 'Healthy: {"text":"HEC is healthy","code":17}') } }
    }, async () => HEC_HEALTHY)
  }
}
