import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { chaosErrors, CHAOS_HEADERS, documented, INGEST_HEADERS, optionalToken } from '../../http/responses.js'
import { readGuard } from '../../http/token-guard.js'
import { appendEntries } from '../../ingest/append.js'
import { logsFormat } from '../../ingest/body.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { parseBodiesAs, requestEntries } from '../../ingest/parser.js'

const gelfMessage = z.looseObject({
  version: z.string().optional(),
  host: z.string().optional(),
  short_message: z.string().optional(),
  full_message: z.string().optional(),
  timestamp: z.number().optional(),
  level: z.number().optional()
}).describe('One GELF message, stored whole as its JSON text')

/**
 * GELF over HTTP, as Graylog's GELF HTTP input takes it: one message per
 * request, answered 202 with no body. In the fire like every ingest route.
 */
export const gelfRoutes: FastifyPluginAsync<IngestOptions> = async (app, options) => {
  parseBodiesAs(app, logsFormat, options.limits)
  const onRequest = readGuard(options.ingestToken, 'LOGFIRE_INGEST_TOKEN', 'logfire ingest')
  app.post('/gelf', {
    onRequest,
    config: { docs: { chaos: true, headers: INGEST_HEADERS, body: { 'application/json': gelfMessage } } },
    schema: {
      tags: ['ingest'],
      summary: 'GELF over HTTP',
      security: optionalToken('ingestBearer'),
      response: {
        202: documented(z.null(), 'Accepted, with no body, as Graylog answers', CHAOS_HEADERS),
        ...chaosErrors({ ingest: true, guarded: true })
      }
    }
  }, async (request, reply) => {
    const appended = appendEntries(request.fire, requestEntries(request), request)
    if (appended instanceof Promise) await appended
    return reply.code(202).send()
  })
}
