import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { adminErrors, documented, errorSchema } from '../http/responses.js'
import { requireAdmin } from './auth.js'
import { settingsPatch, settingsSchema, settingsView } from './settings.js'

export interface AdminRouteOptions {
  adminToken: string | undefined
}

const ADMIN = {
  tags: ['stage'],
  security: [{ adminBearer: [] as string[] }],
  response: {
    200: documented(settingsSchema, 'The settings now'),
    ...adminErrors()
  }
}

/** GET and PATCH /admin/chaos, the stage's live knobs for the fire, and its burn button. */
export const adminRoutes: FastifyPluginAsyncZod<AdminRouteOptions> = async (app, { adminToken }) => {
  // onRequest: the token is checked before the body is even read.
  app.addHook('onRequest', requireAdmin(adminToken))

  app.get('/admin/chaos', { schema: { ...ADMIN, summary: 'The live chaos settings' } }, async (request) => settingsView(request.fire.settings))

  app.patch('/admin/chaos', {
    schema: {
      ...ADMIN,
      summary: 'Change the chaos settings at runtime',
      description: 'Any subset of the fields; the change applies to the very next request.',
      body: settingsPatch,
      response: { ...ADMIN.response, 400: documented(errorSchema, 'Not a valid change; nothing changed') }
    }
  }, async (request) => {
    const { fire } = request
    await fire.changeSettings(request.body)
    request.log.info({ settings: fire.settings }, 'chaos settings changed')
    return settingsView(fire.settings)
  })

  app.delete('/logs', {
    schema: {
      tags: ['stage'],
      summary: 'Burn the chain',
      description: "The stage's burn button. Never on fire itself, and rate limited like every admin route (LOGFIRE_ADMIN_RATE_LIMIT).",
      security: [{ adminBearer: [] as string[] }],
      response: {
        200: documented(z.object({ burned: z.number().int().describe('Blocks destroyed') }), 'Burnt'),
        ...adminErrors()
      }
    }
  }, async (request) => {
    const burned = await request.fire.burn('admin')
    request.log.warn({ burn: { reason: 'admin', burned } }, 'chain burned')
    return { burned }
  })
}
