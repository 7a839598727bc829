import { createRequire } from 'node:module'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { BackendUnavailable } from '../chain/backend.js'
import { BodyTooLarge, InternalError, InvalidRequest, RouteNotFound, storeUnavailable, UnsupportedMediaType, extrasOf } from '../errors.js'

// Required, not imported: an ES import of node:http builds its namespace,
// whose WebSocket getter loads undici, 4 to 13 MB of memory in a server that
// never fetches (Node.js 22 and 24). Fastify requires node:http the same way.
const { STATUS_CODES } = createRequire(import.meta.url)('node:http') as typeof import('node:http')

export interface ErrorBody {
  statusCode: number
  code: string
  error: string
  message: string
  [detail: string]: unknown
}

// Where the short title says more than the status text.
const TITLES: Record<string, string> = {
  LOGFIRE_LP0_ON_FIRE: 'lp0 on fire'
}

/** Fastify's own client errors, and a store that cannot be reached, renamed into logfire's codes. */
function translate (error: FastifyError, maxBodyBytes: number): FastifyError {
  if (error instanceof BackendUnavailable) return storeUnavailable()
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new BodyTooLarge(maxBodyBytes)
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new UnsupportedMediaType('(missing or unknown)', 'send text or JSON')
    case 'FST_ERR_VALIDATION': return new InvalidRequest(error.message)
    // Fastify's own JSON parser (the admin routes) refuses a "__proto__" key, or no body.
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new InvalidRequest(error.message)
    default: return error
  }
}

export function errorBody (error: FastifyError): ErrorBody {
  const statusCode = error.statusCode ?? 500
  return {
    statusCode,
    code: error.code,
    error: TITLES[error.code] ?? STATUS_CODES[statusCode] ?? 'Error',
    message: error.message,
    ...extrasOf(error).body
  }
}

/** How an ecosystem's clients expect to read an error; logfire's own shape by default. */
export type ErrorShape = (body: ErrorBody) => unknown

/**
 * The error handler: one JSON shape for every error a client sees, unless a
 * route family needs its ecosystem's (see shippers/). A 5xx that logfire did
 * not mean is logged in full and answered with a generic message, never a
 * stack.
 */
export function errorReplier (maxBodyBytes: number, shape: ErrorShape = (body) => body) {
  return function replyWithError (raw: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    let error = translate(raw, maxBodyBytes)
    const status = error.statusCode ?? 500
    const intended = status < 500 || error.code?.startsWith('LOGFIRE_')
    if (!intended || typeof error.code !== 'string') {
      request.log.error({ err: raw }, 'unexpected error')
      error = new InternalError()
    }
    const headers = extrasOf(error).headers
    if (headers !== undefined) reply.headers(headers)
    reply.code(error.statusCode as number).send(shape(errorBody(error)))
  }
}

export const errorHandling = fp(async function errorHandling (app: FastifyInstance, options: { maxBodyBytes: number }) {
  app.setErrorHandler(errorReplier(options.maxBodyBytes))

  app.setNotFoundHandler((request, reply) => {
    const error = new RouteNotFound(request.method, request.url.split('?')[0])
    reply.code(404).send(errorBody(error))
  })
}, { name: 'logfire-errors' })
