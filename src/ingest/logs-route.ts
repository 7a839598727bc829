import type { FastifyPluginAsync } from 'fastify'
import { EmptyBody } from '../errors.js'
import { appendEntries, type AppendContext } from './append.js'
import { bodyToEntries, type BodyLimits } from './body.js'

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
    const { json } = appendEntries(options, entries, request)
    // Built from the blocks' JSON text, already made for the store: a batch
    // of a thousand lines is not serialised twice.
    reply.type('application/json; charset=utf-8')
    return `{"appended":${json.length},"length":${options.store.length},"blocks":[${json.join(',')}]}`
  })
}
