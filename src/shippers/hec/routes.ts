import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { errorReplier } from '../../http/errors.js'
import { schemeCredentials } from '../../http/tokens.js'
import { tokenGuard } from '../../http/token-guard.js'
import { appendEntries } from '../../ingest/append.js'
import { utf8Text, type BodyFormat } from '../../ingest/body.js'
import { nonBlankLines } from '../../ingest/entries.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { parseBodiesAs, requestEntries } from '../../ingest/parser.js'
import { hecEventEntries } from './events.js'
import { HEC_HEALTHY, HEC_SUCCESS, hecErrorBody } from './replies.js'

const eventFormat: BodyFormat = { accepts: 'send HEC event JSON', entries: (body) => hecEventEntries(utf8Text(body)) }
const rawFormat: BodyFormat = { accepts: 'send text lines', entries: (body) => nonBlankLines(utf8Text(body)) }

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

  const collect = (format: BodyFormat, urls: string[]) => async (scope: FastifyInstance) => {
    parseBodiesAs(scope, format, options.limits)
    for (const url of urls) {
      scope.post(url, { onRequest }, async (request, reply) => {
        appendEntries(options, requestEntries(request), request)
        return reply.type('application/json; charset=utf-8').send(HEC_SUCCESS)
      })
    }
  }
  await app.register(collect(eventFormat, ['/services/collector', '/services/collector/event', '/services/collector/event/1.0']))
  await app.register(collect(rawFormat, ['/services/collector/raw', '/services/collector/raw/1.0']))
}

/** HEC's health check, which Vector and others call before sending: outside the fire, and open. */
export async function hecHealthRoutes (app: FastifyInstance) {
  for (const url of ['/services/collector/health', '/services/collector/health/1.0']) {
    app.get(url, async () => HEC_HEALTHY)
  }
}
