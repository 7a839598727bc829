import rateLimit from '@fastify/rate-limit'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { rateLimitAnswers } from '../http/rate-limited.js'
import { documented, errorSchema } from '../http/responses.js'
import type { Fires } from './fires.js'

export interface FireRouteOptions {
  fires: Fires
  /** Fires one client may create a minute; 0 turns the limit off. */
  createRateLimit: number
  /** The rate limit's shared counters, when replicas share them. */
  rateLimitStore?: Record<string, unknown>
}

const newFire = z.object({
  id: z.string().describe('The fire\'s name: public, not a secret'),
  ingestToken: z.string().describe('Writes: in each shipper\'s own credential slot (Bearer, Splunk, DD-API-KEY, ApiKey, Basic\'s password)'),
  viewToken: z.string().describe('Reads: GET /logs, /logs/verify, /logs/stream, /scorecard'),
  adminToken: z.string().describe('This fire\'s controls: /admin/chaos, /admin/scenario, DELETE /logs, DELETE /scorecard/:run'),
  page: z.string().describe('The fire\'s page, with the view token in the fragment, which browsers never send'),
  expiresAt: z.string().describe('When it goes out unless used before: each use starts LOGFIRE_FIRE_IDLE_SECONDS again')
})

/** POST /fires: a fire of one's own, in one request (open mode). */
export const fireRoutes: FastifyPluginAsyncZod<FireRouteOptions> = async (app, { fires, createRateLimit, rateLimitStore }) => {
  if (createRateLimit > 0) {
    // Per client address, an IPv6 /64 as one: tighter than ingest, as every no-signup service does.
    await app.register(rateLimit, { global: false, ...rateLimitStore })
    app.addHook('onRequest', app.rateLimit({ max: createRateLimit, timeWindow: 60_000, ...rateLimitAnswers }))
  }

  app.post('/fires', {
    schema: {
      tags: ['fires'],
      summary: 'Create a fire of your own',
      description: 'Its own chain, chaos, seed, scenario, scorecard and viewers. The tokens are shown this once: logfire keeps only their SHA-256.',
      response: {
        201: documented(newFire, 'The fire, its tokens and its page', { 'cache-control': { type: 'string', description: 'no-store' } }),
        429: documented(errorSchema, 'Too many fires created from this address this minute'),
        503: documented(errorSchema, 'As many fires as logfire keeps are alight: LOGFIRE_FIRES_FULL')
      }
    }
  }, async (request, reply) => {
    const { id, tokens, expiresAt } = await fires.create()
    // Its id only: a token in a log is a token leaked.
    request.log.info({ fire: id }, 'fire created')
    reply.code(201).header('cache-control', 'no-store')
    return {
      id,
      ingestToken: tokens.ingest,
      viewToken: tokens.view,
      adminToken: tokens.admin,
      page: `${request.protocol}://${request.host}/f/${id}#${tokens.view}`,
      expiresAt: new Date(expiresAt).toISOString()
    }
  })
}
