import { z } from 'zod'
import { BLOCKED_BY } from '../gdpr/guard.js'

/*
 * Response schemas shared by the routes: they serialise the replies and
 * document them, status by status, with the headers each one carries.
 * An error's extra fields (entry, term, burned, reason) are listed in
 * errorSchema: a field missing there would be dropped from the reply.
 */

export const errorSchema = z.object({
  statusCode: z.number().int().min(400).max(599).meta({ examples: [503] }),
  code: z.string().describe('Stable, for programs').meta({ examples: ['LOGFIRE_LP0_ON_FIRE'] }),
  error: z.string().meta({ examples: ['lp0 on fire'] }),
  message: z.string().describe('For people').meta({ examples: ['The printer is on fire; try again in a moment'] }),
  entry: z.number().int().min(0).optional().describe('413, 451: the index of the entry refused'),
  term: z.string().optional().describe('451: what the entry mentions'),
  burned: z.number().int().min(0).optional().describe('410: how many blocks burned'),
  reason: z.string().optional().describe('410: random, memory or admin'),
  entries: z.number().int().min(0).optional().describe('413 LOGFIRE_TOO_MANY_ENTRIES: how many entries the request held'),
  limit: z.number().int().min(0).optional().describe('413 LOGFIRE_TOO_MANY_ENTRIES: how many a request may hold (LOGFIRE_MAX_ENTRIES_PER_REQUEST); split to this'),
  directive: z.string().optional().describe('400 LOGFIRE_INVALID_CHAOS_HEADER: the X-Logfire-Chaos directive refused')
})

const text = (description: string) => ({ type: 'string', description })

/** On every response of a route in the fire: what replays it. */
export const CHAOS_HEADERS = {
  'x-logfire-seed': text('The seed of the chaos; with X-Logfire-Request it replays this fate'),
  'x-logfire-request': text("This request's number: request N meets the same fate for the same seed"),
  'x-logfire-settings': text('The fire right now, e.g. "fire=0.05; burn=0.02; gdpr=on; override=on"')
}

type Headers = Record<string, { type: string, description: string }>

/** A response schema with its description and headers, for the OpenAPI document. */
export function documented<S extends z.ZodType> (schema: S, description: string, headers: Headers = {}): S {
  return schema.meta({ description, headers }) as S
}

const retryAfter = { 'retry-after': text('Seconds; no shipper honours it on POST, but it is right to send') }
const challenge = { 'www-authenticate': text('The scheme to authenticate with') }

/**
 * Every refusal a route in the fire can give, in the shape its clients
 * read (logfire's own unless given). `guarded`: a token may guard it.
 */
export function chaosErrors (options: { ingest?: boolean, guarded?: boolean, shape?: z.ZodType } = {}) {
  const shape = options.shape ?? errorSchema
  const d = (description: string, headers: Headers = {}) => documented(shape, description, { ...CHAOS_HEADERS, ...headers })
  return {
    400: d('A bad request: unreadable body, invalid JSON, invalid UTF-8, an invalid X-Logfire-Chaos value (`directive` names it)'),
    ...(options.guarded === true
      ? {
          401: d('No token: the route is guarded by a token and none was presented', challenge),
          403: d('The token presented is wrong')
        }
      : {}),
    ...(options.ingest === true
      ? {
          410: d('The chain burned down (the roll, the memory budget, or X-Logfire-Chaos: burn); nothing of this request was stored. Shippers drop the batch.'),
          413: d('The body, or one entry, is too large; `entry` names the entry. Or LOGFIRE_TOO_MANY_ENTRIES: more entries than LOGFIRE_MAX_ENTRIES_PER_REQUEST; `limit` says how many to split to'),
          415: d('A Content-Type or Content-Encoding this route does not read'),
          451: d('An entry mentions the EU, the UK or Europe; `entry` and `term` say which. Nothing was stored.', {
            link: text(BLOCKED_BY)
          })
        }
      : {}),
    429: d('Rate limited (LOGFIRE_RATE_LIMIT per minute per client)', retryAfter),
    503: d('lp0 on fire (LOGFIRE_LP0_ON_FIRE): the seeded 5% (LOGFIRE_FIRE_RATE), or X-Logfire-Chaos: fire. ' +
      (options.ingest === true ? 'Or LOGFIRE_BUSY: LOGFIRE_MAX_INFLIGHT_BYTES of bodies are already being received. ' : '') +
      'Or LOGFIRE_STORE_UNAVAILABLE: Redis (LOGFIRE_REDIS_URL) cannot be reached. ' +
      'Or LOGFIRE_FAULT_OVERFLOW: a fault would have held more than LOGFIRE_MAX_HELD_CONNECTIONS connections. ' +
      'Nothing was stored; retry.', retryAfter),
    '4xx': d('LOGFIRE_INJECTED_STATUS: any status from 400 to 499 the chaos chose (statusRate, or X-Logfire-Chaos: status=<code>); nothing was stored', retryAfter),
    '5xx': d('LOGFIRE_INJECTED_STATUS: any status from 500 to 599 the chaos chose (statusRate, or X-Logfire-Chaos: status=<code>); nothing was stored', retryAfter)
  }
}

/** OpenAPI's way to say "this token, when it is configured": any of the schemes, or nothing. */
export function optionalToken (...schemes: string[]): Array<Record<string, string[]>> {
  return [...schemes.map((scheme) => ({ [scheme]: [] })), {}]
}

/** The request headers every ingest route reads. */
export const INGEST_HEADERS = {
  'content-encoding': 'gzip, x-gzip, deflate (zlib or raw) or br; decoded before the size limit applies'
}

/** The refusals of a route behind LOGFIRE_ADMIN_TOKEN. */
export function adminErrors (headers: Headers = {}) {
  return {
    401: documented(errorSchema, 'No admin token, or a wrong one', { ...headers, 'www-authenticate': text('Bearer') }),
    404: documented(errorSchema, 'LOGFIRE_ADMIN_TOKEN is not set, so admin routes do not exist', headers),
    429: documented(errorSchema, 'Rate limited (LOGFIRE_ADMIN_RATE_LIMIT per minute per client, across the admin routes, right token or wrong)', { ...headers, ...retryAfter })
  }
}

/** The refusals of a route that an optional bearer token guards. */
export function bearerErrors (variable: string) {
  return {
    401: documented(errorSchema, `${variable} is set and no token was presented`, { 'www-authenticate': text('Bearer') }),
    403: documented(errorSchema, `A wrong ${variable}`)
  }
}
