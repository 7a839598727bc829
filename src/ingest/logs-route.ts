import type { FastifyPluginAsync } from 'fastify'
import { EmptyBody } from '../errors.js'
import { appendEntries, type AppendContext } from './append.js'
import { bodyToEntries, type BodyLimits } from './body.js'

const RESPONSE_END = Buffer.from(']}')

export interface LogsIngestOptions extends AppendContext {
  limits: BodyLimits
}

/** POST /logs: every body shape a shipper or curl sends, appended atomically. */
export const logsIngestRoute: FastifyPluginAsync<LogsIngestOptions> = async (app, options) => {
  // Every Content-Type goes through one parser that judges the body by its
  // shape; the parsers Fastify ships would refuse curl's form-encoded text.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, raw, done) => {
    try {
      done(null, bodyToEntries(raw as Buffer, {
        contentType: request.headers['content-type'],
        contentEncoding: request.headers['content-encoding']
      }, options.limits))
    } catch (error) {
      done(error as Error)
    }
  })

  app.post('/logs', async (request, reply) => {
    const entries = request.body as string[] | undefined
    if (entries === undefined) throw new EmptyBody()
    const { slice } = appendEntries(options, entries, request)
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
