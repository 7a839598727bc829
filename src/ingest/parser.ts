import type { FastifyInstance, FastifyRequest } from 'fastify'
import { EmptyBody } from '../errors.js'
import { bodyToEntries, type BodyFormat, type BodyHeaders, type BodyLimits } from './body.js'

/**
 * Every Content-Type of the routes in `app` goes through one parser that
 * reads the body in `format`; the parsers Fastify ships would refuse curl's
 * form-encoded text. The parsed body is the request's entries.
 */
export function parseBodiesAs (app: FastifyInstance, format: BodyFormat, limits: BodyLimits): void {
  parseBodiesWith(app, (raw, headers) => bodyToEntries(raw, headers, limits, format))
}

/** Every Content-Type of the routes in `app` read by `read`, from the raw bytes; what it returns is the body. */
export function parseBodiesWith (app: FastifyInstance, read: (raw: Buffer, headers: BodyHeaders, request: FastifyRequest) => unknown): void {
  app.removeAllContentTypeParsers()
  const parse = (request: FastifyRequest, raw: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
    try {
      done(null, read(raw as Buffer, {
        contentType: request.headers['content-type'],
        contentEncoding: request.headers['content-encoding']
      }, request))
    } catch (error) {
      done(error as Error)
    }
  }
  // Fastify caches the parser it finds for a Content-Type by its name or a
  // pattern, but looks for the catch-all afresh on every request (the type
  // parsed and looked up three ways): a pattern that matches every type
  // takes the requests that name one.
  app.addContentTypeParser(/^/, { parseAs: 'buffer' }, parse)
  app.addContentTypeParser('*', { parseAs: 'buffer' }, parse)
}

/** The entries parsed from the body; a request with no body at all is refused like an empty one. */
export function requestEntries (request: FastifyRequest): string[] {
  const entries = request.body as string[] | undefined
  if (entries === undefined) throw new EmptyBody()
  return entries
}
