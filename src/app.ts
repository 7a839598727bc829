import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { adminRoutes } from './admin/routes.js'
import { initialSettings } from './admin/settings.js'
import { builtinRules } from './alerts/builtin.js'
import type { Alerting } from './alerts/load.js'
import { compileRule } from './alerts/rule.js'
import { alertRoutes } from './alerts/routes.js'
import { chainRoutes } from './chain/routes.js'
import { ChainStore } from './chain/store.js'
import type { Config } from './config.js'
import { RateLimited } from './errors.js'
import { fire } from './fire/hook.js'
import { randomSeed, seededRandom, type Random } from './fire/random.js'
import { errorHandling } from './http/errors.js'
import { gracefulClose } from './http/graceful-close.js'
import { healthRoutes } from './http/health.js'
import { openApi } from './http/openapi.js'
import { createMetrics } from './metrics/metrics.js'
import { metricsRoutes } from './metrics/routes.js'
import { securityHeaders } from './http/security-headers.js'
import { OneLinePerRequest } from './http/request-log.js'
import { uploadBudget } from './http/upload-budget.js'
import { logsIngestRoute, type IngestOptions } from './ingest/logs-route.js'
import { datadogRoutes } from './shippers/datadog/routes.js'
import { hecHealthRoutes, hecRoutes } from './shippers/hec/routes.js'
import { lokiRoutes } from './shippers/loki/routes.js'
import { stageRoutes } from './stage/routes.js'
import { ChainEvents } from './stream/events.js'
import { streamRoutes } from './stream/routes.js'

export interface AppOptions {
  config: Config
  /** Milliseconds since the epoch; Date.now unless a test fixes time. */
  clock?: () => number
  /** The one source of chaos; by default seeded from config.seed. */
  random?: Random
  store?: ChainStore
  /** A ready pino logger; none when omitted. */
  logger?: FastifyBaseLogger
  /** Shown in GET /. */
  version?: string
  /** Interval of the event stream's keep-alive comments. */
  heartbeatMs?: number
  /** Alert rules and outputs; the built-in pack, to the log, when omitted (server.ts loads LOGFIRE_RULES). */
  alerting?: Alerting
}

// Both rate limits refuse in logfire's error shape.
const rateLimited = (_request: unknown, context: { after: string }) => new RateLimited(context.after)

/** The whole service as a Fastify instance, ready to inject into or listen. It never listens itself. */
export async function buildApp (options: AppOptions) {
  const { config } = options
  const store = options.store ?? new ChainStore({ maxSpareBytes: config.memory.maxChainBytes })
  const clock = options.clock ?? Date.now
  const seed = config.seed ?? randomSeed()
  const random = options.random ?? seededRandom(seed)
  const settings = initialSettings(config)
  const events = new ChainEvents()

  const app = Fastify({
    ...(options.logger === undefined ? { logger: false } : { loggerInstance: options.logger }),
    logController: new OneLinePerRequest(),
    bodyLimit: config.maxBodyBytes,
    routerOptions: { ignoreTrailingSlash: true },
    trustProxy: config.trustProxy,
    // Hostile or broken clients are cut off: slow headers (slowloris), slow
    // bodies, idle sockets. Node checks the first two at this interval.
    http: { headersTimeout: config.timeouts.headersMs, connectionsCheckingInterval: Math.min(1000, config.timeouts.headersMs) },
    requestTimeout: config.timeouts.requestMs,
    keepAliveTimeout: config.timeouts.keepAliveMs,
    connectionTimeout: config.timeouts.idleMs
  })
  // Past this many sockets Node closes new connections at once: each costs
  // memory whether or not it ever sends a request.
  app.server.maxConnections = config.memory.maxConnections
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  await app.register(errorHandling, { maxBodyBytes: config.maxBodyBytes })
  await app.register(openApi, { version: options.version ?? '0.0.0-dev' })
  await app.register(metricsRoutes, { metrics: createMetrics(store, events), metricsToken: config.metricsToken })
  await app.register(gracefulClose)
  await app.register(securityHeaders, {
    contentSecurityPolicy: {
      directives: {
        // logfire is served over plain HTTP on laptops and LANs: upgrading
        // the page's own requests to HTTPS would break it.
        upgradeInsecureRequests: null,
        styleSrc: ["'self'"]
      }
    }
  })
  await app.register(healthRoutes)
  await app.register(hecHealthRoutes)
  await app.register(stageRoutes, {
    facts: () => ({
      version: options.version ?? '0.0.0-dev',
      seed,
      settings,
      maxBlocks: config.maxBlocks,
      maxChainBytes: config.memory.maxChainBytes,
      rateLimit: config.rateLimit,
      admin: config.adminToken !== undefined,
      chain: { length: store.length, head: store.head.hash }
    })
  })
  await app.register(streamRoutes, {
    store,
    events,
    backlog: 100,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    readToken: config.readToken,
    maxClients: config.memory.maxStreamClients,
    maxLagBytes: config.memory.maxStreamLagBytes
  })

  // The stage's controls, rate limited on their own so that the admin token
  // cannot be guessed at network speed.
  await app.register(async function admin (admin) {
    if (config.adminRateLimit > 0) {
      // A hook of this context, not of each route, so that it runs before
      // the token check and a wrong guess counts too.
      await admin.register(rateLimit, { global: false })
      admin.addHook('onRequest', admin.rateLimit({ max: config.adminRateLimit, timeWindow: 60_000, errorResponseBuilder: rateLimited }))
    }
    await admin.register(adminRoutes, { settings, adminToken: config.adminToken, store, events })
    await admin.register(alertRoutes, {
      ...(options.alerting ?? { rules: builtinRules({ adminRolePattern: config.adminRolePattern }).map(compileRule), outputs: {} }),
      events,
      clock,
      adminToken: config.adminToken,
      maxQueueBytes: config.memory.maxAlertQueueBytes
    })
  })

  // Every ingest route and the chain's reads share the fire, in the order the
  // README gives: rate limit, token, lp0, the upload budget, body errors,
  // GDPR, wipe.
  await app.register(async function logs (logs) {
    await logs.register(fire, { random, seed, settings, events })
    await logs.register(uploadBudget, { maxInflightBytes: config.memory.maxInflightBytes, maxBodyBytes: config.maxBodyBytes })
    if (config.rateLimit > 0) {
      await logs.register(rateLimit, {
        max: config.rateLimit,
        timeWindow: 60_000,
        errorResponseBuilder: rateLimited
      })
    }
    await logs.register(chainRoutes, { store, readToken: config.readToken })
    const ingest: IngestOptions = {
      store,
      events,
      clock,
      settings,
      maxBlocks: config.maxBlocks,
      maxChainBytes: config.memory.maxChainBytes,
      limits: { maxBodyBytes: config.maxBodyBytes, maxEntryBytes: config.maxEntryBytes },
      ingestToken: config.ingestToken
    }
    await logs.register(logsIngestRoute, ingest)
    await logs.register(hecRoutes, ingest)
    await logs.register(lokiRoutes, ingest)
    await logs.register(datadogRoutes, ingest)
  })

  return app
}
