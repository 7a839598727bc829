import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { storeUnavailable } from '../errors.js'
import { documented, errorSchema } from './responses.js'

export interface HealthOptions {
  /** Whether the chain's store can be reached: always, in memory. */
  ready: () => boolean
}

/**
 * Liveness and readiness, outside /logs, so never on fire and never rate
 * limited. /healthz says the process runs (Docker's HEALTHCHECK); /readyz
 * says it can serve the chain (a load balancer's check): with Redis, not
 * while Redis is unreachable.
 */
export async function healthRoutes (app: FastifyInstance, options: HealthOptions) {
  app.get('/healthz', {
    schema: { tags: ['service'], summary: 'Liveness', response: { 200: documented(z.object({ status: z.literal('ok') }), 'Up') } }
  }, async () => ({ status: 'ok' as const }))

  app.get('/readyz', {
    schema: {
      tags: ['service'],
      summary: 'Readiness: whether the chain\'s store can be reached',
      response: {
        200: documented(z.object({ status: z.literal('ready') }), 'Ready'),
        503: documented(errorSchema, 'The store (Redis) is unreachable: LOGFIRE_STORE_UNAVAILABLE')
      }
    }
  }, async () => {
    if (!options.ready()) throw storeUnavailable()
    return { status: 'ready' as const }
  })
}
