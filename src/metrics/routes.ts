import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { z } from 'zod'
import { bearerErrors, optionalToken } from '../http/responses.js'
import { readGuard } from '../http/token-guard.js'
import type { Metrics } from './metrics.js'
import { OPERATOR_ONLY } from '../http/operator.js'

export interface MetricsRouteOptions {
  metrics: Metrics
  /** LOGFIRE_METRICS_TOKEN: required to scrape when set. */
  metricsToken: string | undefined
}

/**
 * GET /metrics, and the hook that counts every request. Registered outside
 * the fire: a scrape is never on fire, never rate limited and takes no
 * request number.
 */
export const metricsRoutes = fp(async function metricsRoutes (app: FastifyInstance, { metrics, metricsToken }: MetricsRouteOptions) {
  app.addHook('onResponse', (request, reply, done) => {
    // The route's pattern, not the URL, so /logs/1 and /logs/2 share a series.
    metrics.observeRequest(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    done()
  })
  app.addHook('onClose', async () => { metrics.close() })

  app.get('/metrics', {
    config: OPERATOR_ONLY,
    onRequest: readGuard(metricsToken, 'LOGFIRE_METRICS_TOKEN', 'logfire metrics'),
    schema: {
      tags: ['service'],
      summary: 'Prometheus metrics',
      security: optionalToken('metricsBearer'),
      response: {
        200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
        ...bearerErrors('LOGFIRE_METRICS_TOKEN')
      }
    }
  }, async (_request, reply) => {
    reply.type(metrics.registry.contentType)
    return await metrics.registry.metrics()
  })
}, { name: 'logfire-metrics' })
