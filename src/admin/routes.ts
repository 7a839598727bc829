import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { requireAdmin } from './auth.js'
import { settingsPatch, type LiveSettings } from './settings.js'

export interface AdminRouteOptions {
  settings: LiveSettings
  adminToken: string | undefined
}

/** GET and PATCH /admin/chaos: the stage's live knobs for the fire. */
export const adminRoutes: FastifyPluginAsyncZod<AdminRouteOptions> = async (app, { settings, adminToken }) => {
  // onRequest: the token is checked before the body is even read.
  app.addHook('onRequest', requireAdmin(adminToken))

  app.get('/admin/chaos', async () => settings)

  app.patch('/admin/chaos', { schema: { body: settingsPatch } }, async (request) => {
    Object.assign(settings, request.body)
    request.log.info({ settings }, 'chaos settings changed')
    return settings
  })
}
