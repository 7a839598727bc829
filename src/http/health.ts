import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { documented } from './responses.js'

/** Liveness for Docker's HEALTHCHECK: outside /logs, so never on fire and never rate limited. */
export async function healthRoutes (app: FastifyInstance) {
  app.get('/healthz', {
    schema: { tags: ['service'], summary: 'Liveness', response: { 200: documented(z.object({ status: z.literal('ok') }), 'Up') } }
  }, async () => ({ status: 'ok' as const }))
}
