import type { FastifyInstance } from 'fastify'

/** Liveness for Docker's HEALTHCHECK: outside /logs, so never on fire and never rate limited. */
export async function healthRoutes (app: FastifyInstance) {
  app.get('/healthz', async () => ({ status: 'ok' }))
}
