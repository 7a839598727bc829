import { fileURLToPath } from 'node:url'
import accepts from '@fastify/accepts'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { describeService, type ServiceFacts } from './describe.js'

export interface StageRouteOptions {
  /** Read at each request, so runtime changes show. */
  facts: () => ServiceFacts
}

// public/ sits beside src/ and dist/ alike.
const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url))

/** GET /: the fire page for a browser, a JSON description for everyone else. */
export const stageRoutes: FastifyPluginAsync<StageRouteOptions> = async (app, options) => {
  await app.register(accepts)
  await app.register(fastifyStatic, { root: PUBLIC, index: false, wildcard: false })

  app.get('/', async (request, reply) => {
    if (request.accepts().type(['json', 'html']) === 'html') {
      return reply.type('text/html; charset=utf-8').sendFile('index.html')
    }
    return describeService(options.facts())
  })
}
