import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { documented, errorSchema, chaosErrors, CHAOS_HEADERS, optionalToken, INGEST_HEADERS } from '../../http/responses.js'
import { errorReplier } from '../../http/errors.js'
import { schemeCredentials } from '../../http/tokens.js'
import { tokenGuard } from '../../http/token-guard.js'
import { appendEntries } from '../../ingest/append.js'
import type { BodyFormat } from '../../ingest/body.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { parseBodiesAs, requestEntries } from '../../ingest/parser.js'
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
export const hecRoutes: FastifyPluginAsync<IngestOptions> = async (app, options) => {
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
        const appended = appendEntries(options, requestEntries(request), request)
        if (appended instanceof Promise) await appended
        return reply.type('application/json; charset=utf-8').send(HEC_SUCCESS)
      })
    }
  }
  await app.register(collect(hecEventFormat, ['/services/collector', '/services/collector/event', '/services/collector/event/1.0'], {
    summary: 'Splunk HEC: JSON events',
    body: { 'application/json': HEC_EVENTS, 'application/x-www-form-urlencoded': HEC_EVENTS }
  }))
  await app.register(collect(hecRawFormat, ['/services/collector/raw', '/services/collector/raw/1.0'], {
    summary: 'Splunk HEC: raw lines',
    body: { 'text/plain': z.string().describe('One entry per non-blank line') }
  }))
}

/** HEC's health check, which Vector and others call before sending: outside the fire, and open. */
export async function hecHealthRoutes (app: FastifyInstance) {
  for (const url of ['/services/collector/health', '/services/collector/health/1.0']) {
    app.get(url, {
      schema: { tags: ['ingest'], summary: 'Splunk HEC: health check', response: { 200: documented(hecReply, 'Healthy: {"text":"HEC is healthy","code":17}') } }
    }, async () => HEC_HEALTHY)
  }
}
