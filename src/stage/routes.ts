import { fileURLToPath } from 'node:url'
import accepts from '@fastify/accepts'
import fastifyStatic from '@fastify/static'
import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import type { Fire } from '../fires/fire.js'
import { pageHeaders } from '../http/security-headers.js'
import { describeService, type ServiceFacts } from './describe.js'

export interface StageRouteOptions {
  /** Read at each request, so runtime changes show. */
  facts: (fire: Fire) => ServiceFacts
  /** Open mode: each fire has its page, /f/<id>. */
  firePages: boolean
}

const serviceDescription = z.looseObject({
  name: z.string(),
  version: z.string(),
  tagline: z.string(),
  endpoints: z.array(z.object({ method: z.string(), path: z.string(), description: z.string() })),
  chaos: z.looseObject({ fireRate: z.number(), burnRate: z.number(), wipeRate: z.number(), gdpr: z.boolean(), override: z.boolean(), seed: z.string() }),
  admin: z.boolean().describe('Whether the admin routes exist'),
  chain: z.object({ length: z.number().int(), head: z.string() }),
  scenario: z.object({ name: z.string(), step: z.number().int(), of: z.number().int(), description: z.string() }).nullable()
    .describe('The running scenario and its current step; null when none runs'),
  fires: z.enum(['single', 'open']).describe('open: anyone may create a fire of their own, POST /fires'),
  fire: z.string().describe('Which fire this describes: "public", or the fire a token selected')
})

// public/ sits beside src/ and dist/ alike.
const PUBLIC = fileURLToPath(new URL('../../public/', import.meta.url))

/** GET /: the fire page for a browser, a JSON description for everyone else. */
export const stageRoutes: FastifyPluginAsync<StageRouteOptions> = async (app, options) => {
  await app.register(pageHeaders, {
    contentSecurityPolicy: {
      directives: {
        // logfire is served over plain HTTP on laptops and LANs: upgrading
        // the page's own requests to HTTPS would break it.
        upgradeInsecureRequests: null,
        styleSrc: ["'self'"]
      }
    }
  })
  await app.register(accepts)
  await app.register(fastifyStatic, { root: PUBLIC, index: false, wildcard: false })

  app.get('/', {
    schema: {
      tags: ['service'],
      summary: 'The fire page for a browser, a description of the service for curl',
      response: {
        200: {
          description: 'Negotiated on Accept',
          content: {
            'text/html': { schema: z.string().describe('The fire page: the chain burning live, for a big screen') },
            'application/json': { schema: serviceDescription }
          }
        }
      }
    }
  }, async (request, reply) => {
    if (request.accepts().type(['json', 'html']) === 'html') {
      return reply.type('text/html; charset=utf-8').sendFile('index.html')
    }
    return describeService(options.facts(request.fire))
  })

  // The same page: it reads the fire's view token from the fragment, which never reaches a server.
  if (options.firePages) {
    app.get('/f/:id', { schema: { hide: true } }, async (_request, reply) => reply.type('text/html; charset=utf-8').sendFile('index.html'))
  }
}
