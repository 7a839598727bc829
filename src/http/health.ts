import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { storeUnavailable } from '../errors.js'
import { documented, errorSchema } from './responses.js'

export interface HealthOptions {
  /** Whether the chain's store can be reached: always, in memory. */
  ready: () => boolean
  /** In a Redis Cluster: how many masters there are, and how many cannot be reached. */
  masters?: () => { known: number, unreachable: number }
}

/**
 * Liveness and readiness, outside /logs, so never on fire and never rate
 * limited. /healthz says the process runs (Docker's HEALTHCHECK); /readyz
 * says it can serve the chain (a load balancer's check): with Redis, not
 * while Redis is unreachable. In a cluster, a master down stops only the
 * fires it holds: the replica still serves the others, so it stays ready
 * and says the outage is partial.
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
        200: documented(z.union([
          z.object({ status: z.literal('ready') }),
          z.object({ status: z.literal('partial'), masters: z.number().int(), unreachableMasters: z.number().int() })
        ]), 'Ready; `partial` in a Redis Cluster with masters out of reach, whose fires answer 503'),
        503: documented(errorSchema, 'The store (Redis) is unreachable: LOGFIRE_STORE_UNAVAILABLE')
      }
    }
  }, async () => {
    if (!options.ready()) throw storeUnavailable()
    const masters = options.masters?.()
    if (masters === undefined || masters.unreachable === 0) return { status: 'ready' as const }
    if (masters.unreachable >= masters.known) throw storeUnavailable()
    return { status: 'partial' as const, masters: masters.known, unreachableMasters: masters.unreachable }
  })
}
