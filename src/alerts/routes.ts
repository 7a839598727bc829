import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { requireAdmin } from '../admin/auth.js'
import { adminErrors, documented } from '../http/responses.js'
import type { ChainEvents } from '../stream/events.js'
import { AlertEngine, type Alert } from './engine.js'
import { Balloon } from '../balloon/balloon.js'
import { plugDriver } from '../balloon/drivers.js'
import type { OutputConfig } from './outputs/config.js'
import type { DeliveryOptions } from './outputs/delivery.js'
import { sender } from './outputs/senders.js'
import { SEVERITIES, type Rule } from './rule.js'

export interface AlertRouteOptions {
  rules: Rule[]
  outputs: Record<string, OutputConfig>
  /** For tests: faster retries. */
  delivery?: DeliveryOptions
  /** For tests: how a balloon waits out its pulse. */
  balloonWait?: (ms: number) => Promise<void>
  events: ChainEvents
  clock: () => number
  adminToken: string | undefined
  /** Memory of entries waiting for the rules; past it they are dropped and counted. */
  maxQueueBytes: number
}

const alertSchema = z.object({
  id: z.number().int(),
  rule: z.string(),
  severity: z.enum(SEVERITIES),
  description: z.string(),
  time: z.number().int().describe('Milliseconds since the epoch'),
  block: z.object({ epoch: z.number().int(), index: z.number().int() }).describe('The block that triggered it'),
  count: z.number().int().describe('1, or how many matches a digest merged'),
  digest: z.boolean()
})

/**
 * The alert rules over every stored entry, and GET /alerts. Rules run off
 * the request path (see AlertEngine); each alert goes to its rule's outputs
 * and to the event stream.
 */
export const alertRoutes: FastifyPluginAsync<AlertRouteOptions> = async (app, { rules, events, clock, adminToken, maxQueueBytes, ...options }) => {
  const outputs: Record<string, (alert: Alert) => void> = {
    log: (alert) => {
      app.log.warn({ alert: { id: alert.id, rule: alert.rule, severity: alert.severity, count: alert.count, block: alert.block } }, `alert: ${alert.description}`)
    }
  }
  // Each output on its own: a slow or failing one delays nothing else, and
  // only its name and outcome are logged, never its URL or secret.
  const balloons: Balloon[] = []
  for (const [name, config] of Object.entries(options.outputs)) {
    if (config.type === 'balloon') {
      const balloon = new Balloon({
        name,
        driver: plugDriver(config),
        seconds: config.seconds,
        cooldownSeconds: config.cooldownSeconds,
        armed: config.armed,
        clock,
        log: (level, fields, message) => app.log[level](fields, message),
        onInflate: (inflating, seconds) => events.publish({ type: 'balloon', balloon: name, inflating, seconds }),
        ...(options.balloonWait === undefined ? {} : { wait: options.balloonWait })
      })
      balloons.push(balloon)
      outputs[name] = () => { balloon.pulse().catch(() => {}) }
      continue
    }
    const send = sender(config, options.delivery)
    outputs[name] = (alert) => {
      const began = performance.now()
      send(alert).then((delivery) => {
        events.publish({ type: 'output', output: name, ok: delivery.ok, attempts: delivery.attempts, seconds: (performance.now() - began) / 1000 })
        if (!delivery.ok) app.log.error({ output: name, alert: alert.id, ...delivery }, 'alert output failed')
      }, (error: unknown) => app.log.error({ output: name, err: error }, 'alert output failed'))
    }
  }
  const engine = new AlertEngine({
    rules,
    clock,
    maxQueueBytes,
    deliver: (alert, rule) => {
      for (const name of rule.outputs) outputs[name]?.(alert)
      events.publish({ type: 'alert', alert })
    }
  })
  const unsubscribe = events.subscribe((event) => {
    if (event.type === 'append') engine.enqueue(event.entries, event.first, event.epoch)
  })
  app.addHook('onClose', async () => { unsubscribe() })

  // The emergency stop: every plug off, now.
  app.post('/admin/balloon/off', {
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
    onRequest: requireAdmin(adminToken),
    schema: {
      tags: ['stage'],
      summary: 'Recent alerts, newest first',
      description: 'The last 200 alerts raised by the rules. Admin token: alerts carry what the rules read from the logs.',
      security: [{ adminBearer: [] as string[] }],
      response: {
        200: documented(z.object({ rules: z.number().int(), dropped: z.number().int(), alerts: z.array(alertSchema) }), 'The alerts'),
        ...adminErrors()
      }
    }
  }, async () => ({ rules: rules.length, dropped: engine.dropped, alerts: [...engine.recent] }))
}
