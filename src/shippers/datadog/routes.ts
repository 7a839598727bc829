import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { documented, errorSchema, chaosErrors, CHAOS_HEADERS, optionalToken, INGEST_HEADERS } from '../../http/responses.js'
import { errorReplier, type ErrorBody } from '../../http/errors.js'
import { tokenGuard } from '../../http/token-guard.js'
import { appendEntries } from '../../ingest/append.js'
import { logsFormat } from '../../ingest/body.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { parseBodiesAs, requestEntries } from '../../ingest/parser.js'

const datadogLog = z.looseObject({
  message: z.string().optional(),
  ddsource: z.string().optional(),
  ddtags: z.string().optional(),
  hostname: z.string().optional(),
  service: z.string().optional()
}).describe('One log, stored whole as its JSON text')

const datadogError = errorSchema.extend({
  errors: z.array(z.object({ status: z.string(), title: z.string(), detail: z.string() }))
})

/** logfire's error with Datadog's `errors` list beside it: the two shapes share no field. */
export function datadogErrorBody (error: ErrorBody) {
  return { ...error, errors: [{ status: String(error.statusCode), title: error.error, detail: error.message }] }
}

/**
 * Datadog's logs intake: one log object or an array of them, each stored as
 * its JSON text. 202 on success, as Datadog answers.
 */
export const datadogRoutes: FastifyPluginAsync<IngestOptions> = async (app, options) => {
  app.setErrorHandler(errorReplier(options.limits.maxBodyBytes, datadogErrorBody))
  parseBodiesAs(app, logsFormat, options.limits)
  const onRequest = tokenGuard({
    expected: options.ingestToken,
    present: (request) => {
      const key = request.headers['dd-api-key']
      return Array.isArray(key) ? key[0] : key
    },
    hint: 'DD-API-KEY: <LOGFIRE_INGEST_TOKEN>'
  })

  app.post('/api/v2/logs', {
    onRequest,
    config: { docs: { chaos: true, headers: INGEST_HEADERS, body: { 'application/json': z.union([datadogLog, z.array(datadogLog)]) } } },
    schema: {
      tags: ['ingest'],
      summary: 'Datadog logs intake',
      security: optionalToken('datadogApiKey'),
      response: {
        202: documented(z.object({}), 'Accepted, as Datadog answers', CHAOS_HEADERS),
        ...chaosErrors({ ingest: true, guarded: true, shape: datadogError })
      }
    }
  }, async (request, reply) => {
    const appended = appendEntries(request.fire, requestEntries(request), request)
    if (appended instanceof Promise) await appended
    return reply.code(202).send({})
  })
}
