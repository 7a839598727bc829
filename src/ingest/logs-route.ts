import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { blockSchema } from '../chain/routes.js'
import { documented, chaosErrors, CHAOS_HEADERS, optionalToken, INGEST_HEADERS } from '../http/responses.js'
import { bearerToken } from '../http/tokens.js'
import { tokenGuard } from '../http/token-guard.js'
import { appendEntries } from './append.js'
import { logsFormat, type BodyLimits } from './body.js'
import { parseBodiesAs, requestEntries } from './parser.js'

const RESPONSE_END = Buffer.from(']}')
const SMALL_ANSWER_BYTES = 16 * 1024

const lines = z.string().describe('Text: one entry per non-blank line, kept verbatim')
const LOGS_BODY = {
  'text/plain': lines,
  'application/x-www-form-urlencoded': lines.describe("curl -d's default type: read as text, never URL-decoded"),
  'application/json': z.union([
    z.array(z.unknown()).describe('One entry per element'),
    z.object({ logs: z.array(z.unknown()) }).describe("pino-http-send's envelope: one entry per element"),
    z.unknown().describe('Any other JSON value: one entry')
  ]).describe('Strings are stored as they are, anything else as compact JSON'),
  'application/x-ndjson': z.string().describe('One entry per line, each line verbatim'),
  'application/msgpack': z.string().meta({ contentMediaType: 'application/msgpack', description: "Fluent Bit's default: one entry per record, stored as JSON" })
}

const appendResult = z.object({
  appended: z.number().int().describe('Blocks appended by this request'),
  length: z.number().int().describe('The chain length after it, genesis included'),
  blocks: z.array(blockSchema)
})

export interface IngestOptions {
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

  app.post('/logs', {
    onRequest,
    config: { docs: { chaos: true, headers: INGEST_HEADERS, body: LOGS_BODY } },
    schema: {
      tags: ['ingest'],
      summary: 'Append log lines',
      description: 'Every body shape shippers send, gzip, deflate and br included. One request is one all-or-nothing append.',
      security: optionalToken('ingestBearer'),
      response: {
        200: documented(appendResult, 'Appended, always exactly 200: some shippers count anything else as a failure', CHAOS_HEADERS),
        ...chaosErrors({ ingest: true, guarded: true })
      }
    }
  }, async (request, reply) => {
    const appended = appendEntries(request.fire, requestEntries(request), request)
    const { slice, texts, length } = appended instanceof Promise ? await appended : appended
    reply.type('application/json; charset=utf-8')
    const start = `{"appended":${slice.count},"length":${length},"blocks":[`
    // A small answer is one string, which Node sends with the status line in
    // one write; a buffer takes a second, and building it cost a one-line
    // POST 5% of its instructions. A big one is built from the blocks' text
    // as the store keeps it: a batch of a thousand lines is not encoded twice.
    if (slice.byteLength <= SMALL_ANSWER_BYTES) return start + texts.join(',') + ']}'
    return Buffer.concat([Buffer.from(start), ...slice.parts, RESPONSE_END])
  })
}
