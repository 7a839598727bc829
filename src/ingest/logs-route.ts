import type { FastifyPluginAsync } from 'fastify'
import { bearerToken } from '../http/tokens.js'
import { tokenGuard } from '../http/token-guard.js'
import { appendEntries, type AppendContext } from './append.js'
import { logsFormat, type BodyLimits } from './body.js'
import { parseBodiesAs, requestEntries } from './parser.js'

const RESPONSE_END = Buffer.from(']}')

export interface IngestOptions extends AppendContext {
  limits: BodyLimits
  /** LOGFIRE_INGEST_TOKEN: every ingest route needs it when set. */
  ingestToken: string | undefined
}

/** POST /logs: every body shape a shipper or curl sends, appended atomically. */
export const logsIngestRoute: FastifyPluginAsync<IngestOptions> = async (app, options) => {
  parseBodiesAs(app, logsFormat, options.limits)
  const onRequest = tokenGuard({
    expected: options.ingestToken,
    present: (request) => bearerToken(request.headers.authorization),
    hint: 'Authorization: Bearer <LOGFIRE_INGEST_TOKEN>',
    challenge: 'Bearer realm="logfire ingest"'
  })

  app.post('/logs', { onRequest }, async (request, reply) => {
    const { slice } = appendEntries(options, requestEntries(request), request)
    // Built from the blocks' JSON text as the store keeps it: a batch of a
    // thousand lines is not serialised a second time.
    reply.type('application/json; charset=utf-8')
    return Buffer.concat([
      Buffer.from(`{"appended":${slice.count},"length":${options.store.length},"blocks":[`),
      ...slice.parts,
      RESPONSE_END
    ])
  })
}
