import { randomBytes as cryptoRandomBytes } from 'node:crypto'
import rateLimit from '@fastify/rate-limit'
import Fastify, { type FastifyBaseLogger } from 'fastify'
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod'
import { adminRoutes } from './admin/routes.js'
import { initialSettings } from './admin/settings.js'
import { startAlerting, type AlertingOptions } from './alerts/alerting.js'
import { builtinRules } from './alerts/builtin.js'
import type { Alerting } from './alerts/load.js'
import { compileRule } from './alerts/rule.js'
import { alertRoutes } from './alerts/routes.js'
import { MemoryBackend, type ChainBackend } from './chain/backend.js'
import { Chain } from './chain/chain.js'
import type { RedisBackend } from './chain/redis-backend.js'
import { ChainStore } from './chain/store.js'
import { chaosPipeline } from './chaos-pipeline.js'
import { rateLimitAnswers } from './http/rate-limited.js'
import type { Config } from './config.js'
import { HeldConnections } from './fire/held.js'
import { randomSeed } from './fire/random.js'
import { Fire, PUBLIC_FIRE } from './fires/fire.js'
import { Fires } from './fires/fires.js'
import { carryFire } from './fires/request.js'
import { fireRoutes } from './fires/routes.js'
import { errorHandling } from './http/errors.js'
import { answerHeaders } from './http/answer-headers.js'
import { healthRoutes } from './http/health.js'
import { openApi } from './http/openapi.js'
import { createMetrics } from './metrics/metrics.js'
import { metricsRoutes } from './metrics/routes.js'
import { OneLinePerRequest } from './http/request-log.js'
import { hecHealthRoutes } from './shippers/hec/routes.js'
import type { PeerNetwork } from './peers/network.js'
import type { Scenario } from './scenario/document.js'
import { scenarioRoutes } from './scenario/routes.js'
import { peerAdminRoutes, peerRoutes } from './peers/routes.js'
import { catHealth, esClusterRoutes } from './shippers/elasticsearch/cluster.js'
import { ES_PREFIX } from './shippers/elasticsearch/routes.js'
import type { Endpoint } from './stage/describe.js'
import { scorecardRoutes } from './scorecard/routes.js'
import { stageRoutes } from './stage/routes.js'
import { StreamIntake } from './listeners/intake.js'
import { StreamListeners } from './listeners/listeners.js'
import { streamsRoutes } from './listeners/routes.js'
import { streamRoutes } from './stream/routes.js'

export interface AppOptions {
  config: Config
  /** Milliseconds since the epoch; Date.now unless a test fixes time. */
  clock?: () => number
  /** Where the chain lives; in this process's memory when omitted. */
  backend?: ChainBackend
  /** The memory backend's store, when a test needs its own. */
  store?: ChainStore
  /** A ready pino logger; none when omitted. */
  logger?: FastifyBaseLogger
  /** Shown in GET /. */
  version?: string
  /** Interval of the event stream's keep-alive comments. */
  heartbeatMs?: number
  /** Alert rules and outputs; the built-in pack, to the log, when omitted (server.ts loads LOGFIRE_RULES). */
  alerting?: Alerting & Pick<AlertingOptions, 'delivery' | 'balloonWait'>
  /** A scenario to run from the start (server.ts loads LOGFIRE_SCENARIO). */
  scenario?: Scenario
  /** Where created fires' ids, tokens and seeds come from; crypto.randomBytes unless a test fixes them. */
  randomBytes?: (size: number) => Buffer
  /** For the cost ledger (npm run bench -- --only cost): the app with these per-request steps left out. */
  without?: ReadonlyArray<'metrics' | 'scorecard'>
}

/** The whole service as a Fastify instance, ready to inject into or listen. It never listens itself. */
export async function buildApp (options: AppOptions) {
  const { config } = options
  const clock = options.clock ?? Date.now
  const seed = config.seed ?? randomSeed()
  const store = options.store ?? new ChainStore({ maxSpareBytes: config.memory.maxChainBytes })
  const limits = { maxBlocks: config.maxBlocks, maxBytes: config.memory.maxChainBytes }
  const logger = options.logger
  // Loaded only when asked for: in memory, Redis's client is not in the process at all.
  const redisLog = (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => logger?.[level](fields, message)
  const redisConfig = options.backend === undefined ? config.redis : undefined
  // One set of connections for the process, however many fires it follows.
  const link = redisConfig === undefined
    ? undefined
    : await (await import('./chain/redis-link.js')).RedisLink.connect({ servers: redisConfig, name: `logfire:${redisConfig.replica}:${redisConfig.namespace}`, log: redisLog })
  const redis: RedisBackend | undefined = link === undefined || redisConfig === undefined
    ? undefined
    : await (await import('./chain/redis-backend.js')).RedisBackend.connect({ link, namespace: redisConfig.namespace, store, limits, waitReplicas: redisConfig.waitReplicas }).catch(async (error: unknown) => {
      await link.close()
      throw error
    })
  const chain = new Chain(options.backend ?? redis ?? new MemoryBackend(store, limits))
  const without = new Set(options.without)
  // For work started in the background: a failure is the operator's to read, not a client's.
  const logFailure = (what: string) => (error: unknown) => { logger?.error({ err: error }, what) }
  // The public fire and every created one: the same settings to start with, the same parts.
  const kindle = async (id: string, fireChain: Chain, fireSeed: string, maxViewers: number) => await Fire.kindle({
    id,
    chain: fireChain,
    settings: initialSettings(config),
    seed: fireSeed,
    clock,
    maxCanaryRuns: config.memory.maxCanaryRuns,
    maxViewers,
    maxForcedDelayMs: config.maxForcedDelayMs,
    keepScore: !without.has('scorecard'),
    logFailure
  })
  const publicFire = await kindle(PUBLIC_FIRE, chain, seed, config.memory.maxStreamClients)
  // In open mode, anyone may create a fire of their own, within its own
  // budget: its chain in this process's memory, or with replicas in Redis,
  // under its own hash tag, where every replica finds it.
  const fireChain = async (id: string): Promise<Chain> => {
    const fireStore = new ChainStore({ maxSpareBytes: 0, firstSegmentBytes: 1024 })
    const fireLimits = { maxBlocks: config.maxBlocks, maxBytes: config.fires.maxBytes }
    if (link === undefined || redisConfig === undefined) return new Chain(new MemoryBackend(fireStore, fireLimits))
    const [{ RedisBackend }, { fireNamespace }] = await Promise.all([import('./chain/redis-backend.js'), import('./fires/redis-registry.js')])
    return new Chain(await RedisBackend.connect({ link, namespace: fireNamespace(redisConfig.namespace, id), store: fireStore, limits: fireLimits, waitReplicas: redisConfig.waitReplicas }))
  }
  const open = config.fires.mode === 'open'
  const shared = open && link !== undefined && redisConfig !== undefined
    ? new (await import('./fires/redis-registry.js')).RedisFireRegistry(link, redisConfig.namespace)
    : undefined
  const fires = new Fires(publicFire, !open
    ? undefined
    : {
        kindle: async (id, fireSeed) => await kindle(id, await fireChain(id), fireSeed, config.fires.maxViewers),
        maxFires: config.fires.maxFires,
        idleMs: config.fires.idleMs,
        clock,
        randomBytes: options.randomBytes ?? cryptoRandomBytes,
        shared
      })

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
  // Closed after every fire has let go of its chain.
  if (link !== undefined) app.addHook('onClose', async () => { await link.close() })
  await app.register(carryFire, { fires })
  // Hung and slowed connections end at once on close: nothing waits for them.
  const held = new HeldConnections(config.memory.maxHeldConnections, open ? config.fires.maxHeldConnections : undefined)
  app.addHook('preClose', async () => { held.endAll() })
  // GET / lists every documented route, as it was registered.
  // swagger-ui hides its own routes; its page is listed by hand.
  const endpoints: Endpoint[] = [{ method: 'GET', path: '/docs', description: 'The OpenAPI documentation' }]
  app.addHook('onRoute', (route) => {
    const schema = route.schema as { summary?: string, hide?: boolean } | undefined
    if (schema?.summary === undefined || schema.hide === true) return
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD') endpoints.push({ method, path: route.url, description: schema.summary })
    }
  })
  app.setValidatorCompiler(validatorCompiler)
  app.setSerializerCompiler(serializerCompiler)

  await app.register(errorHandling, { maxBodyBytes: config.maxBodyBytes })
  const listenerPorts = { syslogTcp: config.streams.syslogTcpPort, syslogUdp: config.streams.syslogUdpPort, syslogTls: config.streams.syslogTlsPort, relp: config.streams.relpPort, forward: config.streams.forwardPort, gelfTcp: config.streams.gelfTcpPort, gelfUdp: config.streams.gelfUdpPort }
  await app.register(openApi, {
    version: options.version ?? '0.0.0-dev',
    listeners: Object.entries({ 'syslog-tcp': listenerPorts.syslogTcp, 'syslog-udp': listenerPorts.syslogUdp, 'syslog-tls': listenerPorts.syslogTls, relp: listenerPorts.relp, forward: listenerPorts.forward, 'gelf-tcp': listenerPorts.gelfTcp, 'gelf-udp': listenerPorts.gelfUdp })
      .filter(([, port]) => port !== undefined).map(([protocol, port]) => `${protocol} on port ${String(port)}`)
  })
  // naivechain's network: the server listens and dials (server.ts), never buildApp.
  // Loaded only when asked for, as its WebSocket library is.
  const peers = config.p2p.port === undefined
    ? undefined
    : new (await import('./peers/network.js')).PeerNetwork(chain, config.p2p, clock, app.log.child({ module: 'peers' }))
  app.decorate('peers', peers)
  app.addHook('onClose', async () => { await peers?.close() })
  // The stream listeners: built here, listening when server.ts (or a test) says so.
  const listeners = new StreamListeners({
    ports: listenerPorts,
    intake: new StreamIntake({ fires, log: app.log.child({ module: 'streams' }) }),
    held,
    clock,
    maxMessageBytes: config.maxEntryBytes,
    maxChunkBytes: config.maxBodyBytes,
    forwardSharedKey: config.streams.forwardSharedKey,
    fireTokens: open,
    software: `logfire,${options.version ?? '0.0.0-dev'}`,
    maxConnections: config.streams.maxConnections,
    idleMs: config.streams.idleMs,
    handshakeMs: config.timeouts.headersMs
  })
  app.decorate('listeners', listeners)
  app.addHook('preClose', async () => { await listeners.close() })
  if (!without.has('metrics')) await app.register(metricsRoutes, { metrics: createMetrics(chain, held, publicFire.scorecard, config.redis?.replica, peers, listeners, link), metricsToken: config.metricsToken })
  await app.register(answerHeaders)
  await app.register(healthRoutes, { ready: () => chain.available, ...(link?.cluster === true ? { masters: () => link.masters() } : {}) })
  await app.register(hecHealthRoutes)
  await app.register(esClusterRoutes, { prefix: ES_PREFIX, seed, clock })
  await app.register(catHealth, { clock })
  await app.register(stageRoutes, {
    facts: (fire) => ({
      version: options.version ?? '0.0.0-dev',
      seed: fire.seed,
      settings: fire.settings,
      maxBlocks: config.maxBlocks,
      maxChainBytes: config.memory.maxChainBytes,
      rateLimit: config.rateLimit,
      // A created fire always has its controls: its admin token opens them.
      admin: !fire.isPublic || config.adminToken !== undefined,
      fires: config.fires.mode,
      fire: fire.id,
      chain: { length: fire.chain.length, head: fire.chain.head.hash },
      scenario: fire.runningScenario(),
      listeners: listeners.enabled,
      endpoints
    }),
    firePages: fires.open
  })
  await app.register(streamRoutes, {
    backlog: 100,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    readToken: config.readToken,
    maxLagBytes: config.memory.maxStreamLagBytes
  })

  await app.register(streamsRoutes, { listeners, readToken: config.readToken })
  await app.register(peerRoutes, { network: peers, chain, readToken: config.readToken })
  await app.register(scorecardRoutes, { clock, readToken: config.readToken, ingestToken: config.ingestToken, adminToken: config.adminToken })
  // A replica that restarts joins the scenario its fleet runs rather than start its own over it.
  app.addHook('onReady', async () => { if (options.scenario !== undefined && publicFire.scenarios.view()?.ended !== false) await publicFire.scenarios.start(options.scenario) })
  const alerting = startAlerting({
    ...(options.alerting ?? { rules: builtinRules({ adminRolePattern: config.adminRolePattern, flatlineSeconds: config.flatlineSeconds }).map(compileRule), outputs: {} }),
    chain,
    clock,
    log: (level, fields, message) => app.log[level](fields, message),
    maxQueueBytes: config.memory.maxAlertQueueBytes,
    chaos: {
      startScenario: (scenario) => { publicFire.scenarios.start(scenario).catch(logFailure('a chaos output could not start its scenario')) },
      burn: () => { Promise.resolve(chain.burn('alert')).catch(logFailure('a chaos output could not burn the chain')) }
    }
  })
  app.addHook('onClose', async () => { alerting.stop() })

  // The stage's controls, rate limited on their own so that the admin token
  // cannot be guessed at network speed.
  await app.register(async function admin (admin) {
    if (config.adminRateLimit > 0) {
      // A hook of this context, not of each route, so that it runs before
      // the token check and a wrong guess counts too.
      await admin.register(rateLimit, { global: false, ...redis?.rateLimitStore('admin') })
      admin.addHook('onRequest', admin.rateLimit({ max: config.adminRateLimit, timeWindow: 60_000, ...rateLimitAnswers }))
    }
    await admin.register(adminRoutes, { adminToken: config.adminToken })
    await admin.register(alertRoutes, { alerting, adminToken: config.adminToken })
    await admin.register(scenarioRoutes, { adminToken: config.adminToken })
    await admin.register(peerAdminRoutes, { network: peers, allowPublic: config.p2p.allowPublic, adminToken: config.adminToken })
  })

  if (fires.open) await app.register(fireRoutes, { fires, createRateLimit: config.fires.createRateLimit, rateLimitStore: redis?.rateLimitStore('fires') })

  await app.register(async function logs (logs) {
    await chaosPipeline(logs, { config, clock, held, rateLimitStore: redis?.rateLimitStore('logs') })
  })

  return app
}

declare module 'fastify' {
  interface FastifyInstance {
    /** naivechain's network, when LOGFIRE_P2P_PORT is set: server.ts makes it listen and dial. */
    peers: PeerNetwork | undefined
    /** Syslog over TCP, UDP and TLS, each on when its port is set: server.ts makes them listen. */
    listeners: StreamListeners
  }
}
