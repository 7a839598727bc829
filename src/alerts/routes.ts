import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { requireAdmin } from '../admin/auth.js'
import { adminErrors, documented } from '../http/responses.js'
import type { AlertingHandle } from './alerting.js'
import { SEVERITIES } from './rule.js'
import { OPERATOR_ONLY } from '../http/operator.js'

export interface AlertRouteOptions {
  alerting: AlertingHandle
  adminToken: string | undefined
}

const alertSchema = z.object({
  id: z.number().int(),
  rule: z.string(),
  severity: z.enum(SEVERITIES),
  description: z.string(),
  time: z.number().int().describe('Milliseconds since the epoch'),
  block: z.object({ epoch: z.number().int(), index: z.number().int() }).optional().describe('The block that triggered it; a flatline has none'),
  count: z.number().int().describe('1; how many matches a digest merged; or a frequency or flatline rule\'s matches in its window'),
  digest: z.boolean(),
  group: z.string().optional().describe('A frequency rule\'s groupBy value'),
  resolves: z.number().int().optional().describe('On a resolve: the id of the alert whose condition has ended')
})

/** GET /alerts, and the balloons' emergency stop. Alerting itself is started by startAlerting. */
export const alertRoutes: FastifyPluginAsync<AlertRouteOptions> = async (app, { alerting, adminToken }) => {
  const { engine, balloons, rules, recent } = alerting
  // The emergency stop: every plug off, now.
  app.post('/admin/balloon/off', {
    config: OPERATOR_ONLY,
    onRequest: requireAdmin(adminToken),
    schema: {
      tags: ['stage'],
      summary: 'Switch every balloon plug off at once',
      security: [{ adminBearer: [] as string[] }],
      response: {
        200: documented(z.object({ off: z.array(z.string()), failed: z.array(z.string()) }), 'Which plugs confirmed off, and which did not'),
        ...adminErrors()
      }
    }
  }, async () => {
    const results = await Promise.allSettled(balloons.map((balloon) => balloon.off()))
    return {
      off: balloons.filter((_, i) => results[i]?.status === 'fulfilled').map((balloon) => balloon.name),
      failed: balloons.filter((_, i) => results[i]?.status === 'rejected').map((balloon) => balloon.name)
    }
  })

  app.get('/alerts', {
    config: OPERATOR_ONLY,
    onRequest: requireAdmin(adminToken),
    schema: {
      tags: ['stage'],
      summary: 'Recent alerts, newest first',
      description: 'The last 200 alerts raised by the rules. Admin token: alerts carry what the rules read from the logs.',
      security: [{ adminBearer: [] as string[] }],
      response: {
        200: documented(z.object({
          rules: z.number().int(),
          dropped: z.number().int().describe('Entries the rules fell too far behind to evaluate'),
          uncounted: z.number().int().describe('Window-rule matches and looks the shared store could not take (Redis unreachable)'),
          alerts: z.array(alertSchema)
        }), 'The alerts'),
        ...adminErrors()
      }
    }
  }, async () => ({ rules, dropped: engine.dropped, uncounted: engine.uncounted, alerts: [...recent] }))
}
