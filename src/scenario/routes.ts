import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { requireAdmin } from '../admin/auth.js'
import { InvalidRequest } from '../errors.js'
import { adminErrors, documented, errorSchema } from '../http/responses.js'
import { scenarioSchema, ScenarioError } from './document.js'

const view = z.object({
  name: z.string(),
  loop: z.boolean(),
  step: z.number().int().describe('1-based; 0 once ended'),
  of: z.number().int(),
  description: z.string().describe('What the current step does, and for how long'),
  remaining: z.union([z.object({ requests: z.number().int() }), z.object({ messages: z.number().int() }), z.object({ seconds: z.number() })]).optional(),
  matched: z.number().int().describe('Requests this replica decided'),
  ended: z.boolean()
})
const current = z.object({ scenario: view.nullable() })
const SCENARIO = { tags: ['stage'], security: [{ adminBearer: [] as string[] }] }

/** The running scenario: see it, replace it, step it, stop it. Admin token. */
export const scenarioRoutes: FastifyPluginAsyncZod<{ adminToken: string | undefined }> = async (app, { adminToken }) => {
  app.addHook('onRequest', requireAdmin(adminToken))
  const reply = async (request: FastifyRequest) => ({ scenario: await request.fire.scenarios.status() ?? null })

  app.get('/admin/scenario', {
    schema: { ...SCENARIO, summary: 'The running scenario', response: { 200: documented(current, 'Its current step, what remains of it, and the requests it decided; null when none runs'), ...adminErrors() } }
  }, async (request) => await reply(request))

  app.put('/admin/scenario', {
    schema: {
      ...SCENARIO,
      summary: 'Start a scenario, replacing the running one',
      description: '{"name"?, "loop"?, "steps": [{"requests": 3, "chaos": "fire"}, {"seconds": 30, "set": {"fireRate": 1}}, {"pause": true, "burn": true}]}. The settings the old one changed are restored first.',
      body: scenarioSchema,
      response: { 200: documented(current, 'The scenario now, at its first step'), 400: documented(errorSchema, 'Not a valid scenario; nothing changed'), ...adminErrors() }
    }
  }, async (request) => {
    try {
      await request.fire.scenarios.start(request.body)
    } catch (error) {
      if (error instanceof ScenarioError) throw new InvalidRequest(error.message)
      throw error
    }
    request.log.info({ scenario: { name: request.body.name, steps: request.body.steps.length } }, 'scenario started')
    return await reply(request)
  })

  app.post('/admin/scenario/next', {
    schema: { ...SCENARIO, summary: 'Step the scenario by hand', response: { 200: documented(current, 'The scenario now'), ...adminErrors() } }
  }, async (request) => {
    request.fire.scenarios.next()
    return await reply(request)
  })

  app.delete('/admin/scenario', {
    schema: { ...SCENARIO, summary: 'Stop the scenario', description: 'The settings it changed are restored.', response: { 200: documented(current, 'null: none runs'), ...adminErrors() } }
  }, async (request) => {
    request.fire.scenarios.stop()
    return await reply(request)
  })
}
