import type { FastifyPluginAsync, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { documented, chaosErrors, CHAOS_HEADERS, optionalToken, INGEST_HEADERS } from '../../http/responses.js'
import { basicPassword, bearerToken } from '../../http/tokens.js'
import { tokenGuard } from '../../http/token-guard.js'
import { appendEntries } from '../../ingest/append.js'
import type { IngestOptions } from '../../ingest/logs-route.js'
import { parseBodiesAs, requestEntries } from '../../ingest/parser.js'
import { lokiPushFormat, pushRequest } from './push.js'

// Grafana Cloud and most gateways take the token as basic auth's password.
const lokiToken = (request: FastifyRequest): string | undefined =>
  bearerToken(request.headers.authorization) ?? basicPassword(request.headers.authorization)

/** Loki's push API in JSON. Errors keep logfire's shape: Loki's clients read only the status. */
export const lokiRoutes: FastifyPluginAsync<IngestOptions> = async (app, options) => {
  parseBodiesAs(app, lokiPushFormat, options.limits)
  const onRequest = tokenGuard({
    expected: options.ingestToken,
    present: lokiToken,
    hint: 'Authorization: Bearer <LOGFIRE_INGEST_TOKEN>, or basic auth with it as the password',
    challenge: 'Basic realm="logfire ingest"'
  })

  app.post('/loki/api/v1/push', {
    onRequest,
    config: { docs: { chaos: true, headers: INGEST_HEADERS, body: { 'application/json': pushRequest } } },
    schema: {
      tags: ['ingest'],
      summary: 'Loki push, JSON',
      description: 'One entry per log line, streams in order. Protobuf (Loki\'s default) is a 415: use the client\'s JSON mode.',
      security: optionalToken('ingestBearer', 'lokiBasic'),
      response: {
        204: documented(z.null(), 'Pushed, as Loki answers', CHAOS_HEADERS),
        ...chaosErrors({ ingest: true, guarded: true })
      }
    }
  }, async (request, reply) => {
    const appended = appendEntries(request.fire, requestEntries(request), request)
    if (appended instanceof Promise) await appended
    return reply.code(204).send()
  })
}
