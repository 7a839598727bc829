import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { chainRoutes } from './chain/routes.js'
import type { Config } from './config.js'
import { rateLimitAnswers } from './http/rate-limited.js'
import { chaos } from './fire/hook.js'
import type { HeldConnections } from './fire/held.js'
import { UploadBudget } from './http/upload-budget.js'
import { logsIngestRoute, type IngestOptions } from './ingest/logs-route.js'
import { esBulkRoutes, ES_PREFIX } from './shippers/elasticsearch/routes.js'
import { otlpRoutes } from './shippers/otlp/routes.js'
import { datadogRoutes } from './shippers/datadog/routes.js'
import { gelfRoutes } from './shippers/gelf/routes.js'
import { AckLedger } from './shippers/hec/acks.js'
import { hecRoutes } from './shippers/hec/routes.js'
import { lokiRoutes } from './shippers/loki/routes.js'

declare module './chain/events.js' {
  interface ChainEventMap {
    /** Request `request` was refused by the rate limit: 429. */
    limited: { request: number }
  }
}

export interface ChaosPipelineOptions {
  config: Config
  /** The connections faults hold open (delays, slow transfers, hangs). */
  held: HeldConnections
  clock: () => number
  /** The rate limit's shared counters, when replicas share them (Redis). */
  rateLimitStore?: Record<string, unknown>
}

/**
 * Open mode: each created fire has one limit for all its clients, so that a
 * noisy fire burns its own budget and nobody else's; the public fire keeps
 * the limit per client.
 */
function perFire ({ rateLimit, fires }: Config) {
  const limitOf = (request: FastifyRequest) => request.fire.isPublic ? rateLimit : fires.rateLimit
  return {
    max: limitOf,
    keyGenerator: (request: FastifyRequest) => request.fire.isPublic ? request.ip : `fire:${request.fire.id}`,
    allowList: (request: FastifyRequest) => limitOf(request) === 0
  }
}

/**
 * The chaos, in the order a request to an ingest route or a read of the
 * chain meets it. Each step can end the request; a refused request stores
 * nothing.
 *
 *   -. the fire                       fires/request.ts (onRequest   401 LOGFIRE_FIRE_TOKEN_REFUSED
 *      (open mode: a fire's token       of the root)
 *      selects its fire, and every step below is that fire's: its settings, seed, numbering, scenario)
 *   0. numbered, and its fate rolled  fire/hook.ts (onRequest)      X-Logfire-Request
 *      (X-Logfire-Chaos, else a running scenario's step, else the seeded roll, which is drawn either way)
 *   1. the rate limit                 @fastify/rate-limit           429
 *   2. the route's token              http/token-guard.ts           401, 403
 *   3. X-Logfire-Chaos checked        fire/hook.ts (preParsing)     400
 *   4. faults before the body         fire/fault-steps.ts           503 LOGFIRE_FAULT_OVERFLOW when
 *                                                                     LOGFIRE_MAX_HELD_CONNECTIONS are held,
 *                                                                   then delay, reset (RST)
 *   5. lp0 on fire                    fire/fault-steps.ts           503
 *   6. faults instead of an answer    fire/fault-steps.ts           status (4xx, 5xx), hang, close (EOF)
 *   7. slow-read                      fire/fault-steps.ts           the body is read slowly
 *   8. the upload budget              http/upload-budget.ts         503 LOGFIRE_BUSY
 *                                     (a step of fire/hook.ts's preParsing: beforeBody)
 *   9. the body                       ingest/parser.ts              400, 413, 415
 *  10. the batch limit                ingest/append.ts              413 LOGFIRE_TOO_MANY_ENTRIES
 *  11. GDPR                           gdpr/guard.ts                 451
 *  12. the burn                       chain/budget.ts               410
 *  13. the append                     chain/chain.ts                200
 *  14. faults at the answer           fire/fault-steps.ts (onSend)  a 200 becomes reset-after-append (RST)
 *                                                                   or garbage; any answer may slow-response
 *
 * Fastify runs a context's onRequest hooks before a route's own, and every
 * onRequest hook before any preParsing hook: registering them in this order
 * is what makes it so. Steps 10 to 13 are ingest/append.ts, shared by every
 * ingest route. Reads of the chain meet steps 0 to 7 and 14.
 */
export async function chaosPipeline (app: FastifyInstance, options: ChaosPipelineOptions): Promise<void> {
  const { config } = options
  const uploads = new UploadBudget({ maxInflightBytes: config.memory.maxInflightBytes, maxBodyBytes: config.maxBodyBytes })
  await app.register(chaos, {
    held: options.held,
    maxForcedDelayMs: config.maxForcedDelayMs,
    beforeBody: (request, reply) => uploads.admit(request, reply)
  })
  if (config.rateLimit > 0 || (config.fires.mode === 'open' && config.fires.rateLimit > 0)) {
    await app.register(rateLimit, {
      ...(config.fires.mode === 'open' ? perFire(config) : { max: config.rateLimit }),
      timeWindow: 60_000,
      ...rateLimitAnswers,
      // On the timeline, so the scorecard can count what the limit refused.
      onExceeded: (request) => { request.fire.chain.publish({ type: 'limited', request: request.requestNumber }) },
      ...options.rateLimitStore
    })
  }
  await app.register(chainRoutes, { readToken: config.readToken })
  const ingest: IngestOptions = {
    limits: { maxBodyBytes: config.maxBodyBytes, maxEntryBytes: config.maxEntryBytes },
    ingestToken: config.ingestToken
  }
  await app.register(logsIngestRoute, ingest)
  await app.register(hecRoutes, { ...ingest, acks: config.hecAck ? new AckLedger({ maxChannels: config.memory.maxAckChannels, maxPendingAcks: config.memory.maxPendingAcks }, options.clock) : undefined })
  await app.register(lokiRoutes, ingest)
  await app.register(datadogRoutes, ingest)
  await app.register(gelfRoutes, ingest)
  await app.register(esBulkRoutes, { ...ingest, prefix: ES_PREFIX, withIndex: true })
  // POST /_bulk at the root too, for clients given a host and port but no path
  // (rsyslog); not /{index}/_bulk: a parameter at the root slowed every POST /logs by 5%.
  await app.register(esBulkRoutes, { ...ingest, withIndex: false })
  await app.register(otlpRoutes, { ...ingest, maxBlocks: config.maxBlocks })
}
