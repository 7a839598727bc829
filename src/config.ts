import { hostname, totalmem } from 'node:os'
import { z } from 'zod'
import type { RedisServers } from './chain/redis-link.js'
import { ITEM_REJECT_STATUSES, NO_BATCH_CHAOS, type BatchSettings, type ItemRejectStatus } from './fire/batches.js'
import { CHAOS_PRESETS, NO_FAULT_SETTINGS, type ChaosPreset, type FaultSettings } from './fire/faults.js'

const MiB = 1024 * 1024

// An empty variable (`PORT=`) means "not set", as it does for most tools.
const unset = (value: unknown): unknown => (value === '' ? undefined : value)

const integerFrom = (min: number, max: number) => {
  const error = `an integer from ${min} to ${max}`
  return z.coerce.number({ error }).int({ error }).min(min, { error }).max(max, { error })
}

const integer = (min: number, max: number, fallback: number) =>
  z.preprocess(unset, integerFrom(min, max).default(fallback))

// Unset means "derive it" (defaultBudgets).
const optionalInteger = (min: number, max: number) =>
  z.preprocess(unset, integerFrom(min, max).optional())

const numberFrom = (min: number, max: number) => {
  const error = `a number from ${min} to ${max}`
  return z.coerce.number({ error }).min(min, { error }).max(max, { error })
}

const probability = (fallback: number) => z.preprocess(unset, numberFrom(0, 1).default(fallback))

const flag = (fallback: boolean) =>
  z.preprocess(unset, z.stringbool({ error: 'true or false' }).default(fallback))

const secret = () =>
  z.preprocess(unset, z.string().max(1024, { error: 'at most 1024 characters' }).optional())

// Fault settings have no default here: unset means "from the preset, or off".
const optionalNumber = (min: number, max: number) => z.preprocess(unset, numberFrom(min, max).optional())
const optionalProbability = () => optionalNumber(0, 1)

const statusCodes = z.preprocess(unset, z.string()
  .regex(/^\s*[45]\d\d(\s*,\s*[45]\d\d){0,31}\s*$/, { error: 'a comma-separated list of statuses from 400 to 599' })
  .transform((list) => list.split(',').map(Number))
  .optional())

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Every setting, by its environment variable; config-docs.ts says what each means, and `npm run docs` tables them. */
export const ENVIRONMENT = z.object({
  PORT: integer(0, 65535, 3000),
  HOST: z.preprocess(unset, z.string().default('127.0.0.1')),
  LOG_LEVEL: z.preprocess(unset, z.enum(LOG_LEVELS, { error: `one of ${LOG_LEVELS.join(', ')}` }).default('info')),
  LOGFIRE_FIRE_RATE: probability(0.05),
  LOGFIRE_BURN_RATE: probability(0.02),
  // The old name of LOGFIRE_BURN_RATE, honoured when that is unset.
  LOGFIRE_WIPE_RATE: probability(0.02),
  // The seed is echoed in a response header, so it must be printable ASCII.
  LOGFIRE_SEED: z.preprocess(unset, z.string()
    .regex(/^[!-~]([ -~]{0,254}[!-~])?$/, { error: 'printable ASCII, at most 256 characters' })
    .optional()),
  LOGFIRE_GDPR: flag(true),
  LOGFIRE_MAX_BLOCKS: integer(1, 100_000_000, 100_000),
  // Unset: derived from the memory the process is given (defaultBudgets).
  LOGFIRE_MAX_CHAIN_BYTES: optionalInteger(64 * 1024, 2 ** 50),
  LOGFIRE_MAX_INFLIGHT_BYTES: optionalInteger(1024, 2 ** 50),
  LOGFIRE_MAX_ALERT_QUEUE_BYTES: optionalInteger(0, 2 ** 50),
  LOGFIRE_MAX_CONNECTIONS: integer(1, 1_000_000, 1024),
  LOGFIRE_MAX_STREAM_CLIENTS: integer(0, 1_000_000, 100),
  LOGFIRE_MAX_STREAM_LAG_BYTES: integer(64 * 1024, 2 ** 40, 4 * MiB),
  LOGFIRE_ADMIN_RATE_LIMIT: integer(0, 100_000_000, 300),
  LOGFIRE_MAX_BODY_BYTES: integer(1, 1024 * 1024 * 1024, 1024 * 1024),
  LOGFIRE_MAX_ENTRY_BYTES: integer(1, 1024 * 1024 * 1024, 64 * 1024),
  LOGFIRE_RATE_LIMIT: integer(0, 100_000_000, 10_000),
  LOGFIRE_ADMIN_TOKEN: secret(),
  LOGFIRE_INGEST_TOKEN: secret(),
  LOGFIRE_READ_TOKEN: secret(),
  LOGFIRE_METRICS_TOKEN: secret(),
  LOGFIRE_CHAOS_OVERRIDE: flag(true),
  LOGFIRE_CHAOS_PRESET: z.preprocess(unset, z.enum(Object.keys(CHAOS_PRESETS) as [ChaosPreset], { error: `one of ${Object.keys(CHAOS_PRESETS).join(', ')}` }).optional()),
  LOGFIRE_DELAY_RATE: optionalProbability(),
  LOGFIRE_DELAY_MS: optionalInteger(0, 3_600_000),
  LOGFIRE_DELAY_JITTER_MS: optionalInteger(0, 3_600_000),
  LOGFIRE_DELAY_DISTRIBUTION: z.preprocess(unset, z.enum(['uniform', 'lognormal'], { error: 'uniform or lognormal' }).optional()),
  LOGFIRE_DELAY_SIGMA: optionalNumber(0, 5),
  LOGFIRE_SLOW_READ_RATE: optionalProbability(),
  LOGFIRE_SLOW_READ_BYTES_PER_SECOND: optionalInteger(1, 2 ** 40),
  LOGFIRE_SLOW_RESPONSE_RATE: optionalProbability(),
  LOGFIRE_SLOW_RESPONSE_MS: optionalInteger(0, 3_600_000),
  LOGFIRE_HANG_RATE: optionalProbability(),
  LOGFIRE_HANG_MS: optionalInteger(1, 3_600_000),
  LOGFIRE_RESET_RATE: optionalProbability(),
  LOGFIRE_RESET_AFTER_APPEND_RATE: optionalProbability(),
  LOGFIRE_CLOSE_RATE: optionalProbability(),
  LOGFIRE_GARBAGE_RATE: optionalProbability(),
  LOGFIRE_STATUS_RATE: optionalProbability(),
  LOGFIRE_STATUS_CODES: statusCodes,
  LOGFIRE_STREAM_RESET_RATE: optionalProbability(),
  LOGFIRE_STREAM_RESET_AFTER_APPEND_RATE: optionalProbability(),
  LOGFIRE_STREAM_CLOSE_RATE: optionalProbability(),
  LOGFIRE_STREAM_STALL_RATE: optionalProbability(),
  LOGFIRE_STREAM_STALL_RESET_RATE: optionalProbability(),
  LOGFIRE_STREAM_STALL_MS: optionalInteger(0, 3_600_000),
  LOGFIRE_STREAM_SLOW_READ_RATE: optionalProbability(),
  LOGFIRE_STREAM_SLOW_READ_BYTES_PER_SECOND: optionalInteger(1, 2 ** 40),
  LOGFIRE_STREAM_SLOW_READ_MS: optionalInteger(0, 3_600_000),
  LOGFIRE_STREAM_HANG_RATE: optionalProbability(),
  LOGFIRE_STREAM_NAK_RATE: optionalProbability(),
  LOGFIRE_STREAM_ACK_LOSS_RATE: optionalProbability(),
  LOGFIRE_STREAM_ACK_WRONG_RATE: optionalProbability(),
  // Unset: that listener is off.
  LOGFIRE_SYSLOG_TCP_PORT: optionalInteger(0, 65535),
  LOGFIRE_SYSLOG_UDP_PORT: optionalInteger(0, 65535),
  LOGFIRE_SYSLOG_TLS_PORT: optionalInteger(0, 65535),
  LOGFIRE_RELP_PORT: optionalInteger(0, 65535),
  LOGFIRE_FORWARD_PORT: optionalInteger(0, 65535),
  LOGFIRE_FORWARD_SHARED_KEY: z.preprocess(unset, z.string().min(1).max(1024).optional()),
  LOGFIRE_GELF_TCP_PORT: optionalInteger(0, 65535),
  LOGFIRE_GELF_UDP_PORT: optionalInteger(0, 65535),
  // PEM files, read by server.ts at start.
  LOGFIRE_TLS_CERT: z.preprocess(unset, z.string().max(4096).optional()),
  LOGFIRE_TLS_KEY: z.preprocess(unset, z.string().max(4096).optional()),
  LOGFIRE_MAX_STREAM_CONNECTIONS: integer(1, 1_000_000, 1024),
  LOGFIRE_STREAM_IDLE_TIMEOUT_MS: integer(1000, 86_400_000, 3_600_000),
  LOGFIRE_ITEM_REJECT_RATE: probability(NO_BATCH_CHAOS.itemRejectRate),
  LOGFIRE_ITEM_REJECT_STATUSES: z.preprocess(unset, z.string()
    .regex(new RegExp(`^\\s*(${ITEM_REJECT_STATUSES.join('|')})(\\s*,\\s*(${ITEM_REJECT_STATUSES.join('|')})){0,7}\\s*$`), { error: `a comma-separated list of ${ITEM_REJECT_STATUSES.join(', ')}` })
    .transform((list) => list.split(',').map(Number) as ItemRejectStatus[])
    .optional()),
  LOGFIRE_HEC_ACK: flag(false),
  LOGFIRE_ACK_LOSS_RATE: probability(NO_BATCH_CHAOS.ackLossRate),
  LOGFIRE_ACK_DELAY_RATE: probability(NO_BATCH_CHAOS.ackDelayRate),
  LOGFIRE_ACK_DELAY_MS: integer(0, 3_600_000, NO_BATCH_CHAOS.ackDelayMs),
  LOGFIRE_MAX_ACK_CHANNELS: integer(1, 10_000_000, 10_000),
  LOGFIRE_MAX_PENDING_ACKS: integer(1, 10_000_000, 10_000),
  LOGFIRE_MAX_ENTRIES_PER_REQUEST: integer(0, 100_000_000, 0),
  LOGFIRE_MAX_FORCED_DELAY_MS: integer(0, 3_600_000, 60_000),
  LOGFIRE_MAX_HELD_CONNECTIONS: integer(0, 1_000_000, 256),
  LOGFIRE_MAX_CANARY_RUNS: integer(1, 100_000, 100),
  // Unset: no peer-to-peer endpoint.
  LOGFIRE_P2P_PORT: optionalInteger(1, 65535),
  LOGFIRE_PEERS: z.preprocess(unset, z.string()
    .regex(/^\s*wss?:\/\/[^\s,]+(\s*,\s*wss?:\/\/[^\s,]+){0,63}\s*$/, { error: 'a comma-separated list of ws:// or wss:// URLs' })
    .transform((list) => list.split(',').map((url) => url.trim()))
    .optional()),
  LOGFIRE_P2P_ALLOW_PUBLIC: flag(false),
  LOGFIRE_P2P_MAX_PEERS: integer(1, 10_000, 32),
  LOGFIRE_P2P_MAX_MESSAGE_BYTES: integer(1024, 1024 * 1024 * 1024, 1024 * 1024),
  LOGFIRE_P2P_MAX_CHAIN_MESSAGE_BYTES: integer(1024, 2 ** 31, 64 * 1024 * 1024),
  LOGFIRE_P2P_MESSAGES_PER_SECOND: integer(1, 1_000_000, 50),
  LOGFIRE_P2P_ACCEPT: z.preprocess(unset, z.enum(['never', 'longest'], { error: 'never or longest' }).default('never')),
  LOGFIRE_TRUST_PROXY: flag(false),
  LOGFIRE_RULES: z.preprocess(unset, z.string().optional()),
  // A built-in scenario's name, or a YAML or JSON file: server.ts loads it.
  LOGFIRE_SCENARIO: z.preprocess(unset, z.string().max(4096).optional()),
  // Unset: the chain lives in this process's memory.
  LOGFIRE_REDIS_URL: z.preprocess(unset, z.string()
    .regex(/^(rediss?:\/\/\S+|unix:\/\/\/\S+)$/, { error: 'a redis://, rediss:// or unix:///path URL' })
    .optional()),
  // Seed nodes of a Redis Cluster, comma-separated: the others are found from them.
  LOGFIRE_REDIS_CLUSTER: z.preprocess(unset, z.string()
    .regex(/^rediss?:\/\/[^\s,]+(,rediss?:\/\/[^\s,]+)*$/, { error: 'redis:// or rediss:// URLs of seed nodes, comma-separated' })
    .transform((list) => list.split(','))
    .optional()),
  // Replicas of Redis that must hold an append before its 200 (WAIT).
  LOGFIRE_REDIS_WAIT: integer(0, 16, 0),
  // Unset: the host's name, which a container runtime sets per container.
  LOGFIRE_REPLICA_NAME: z.preprocess(unset, z.string().regex(/^[\w.:-]{1,128}$/, { error: 'letters, digits, _ . : or -, at most 128' }).optional()),
  LOGFIRE_REDIS_NAMESPACE: z.preprocess(unset, z.string().regex(/^[\w.-]{1,64}$/, { error: 'letters, digits, _ . or -, at most 64' }).default('logfire')),
  LOGFIRE_FIRES: z.preprocess(unset, z.enum(['single', 'open'], { error: 'single or open' }).default('single')),
  LOGFIRE_MAX_FIRES: integer(1, 1_000_000, 100),
  LOGFIRE_FIRE_MAX_BYTES: integer(64 * 1024, 2 ** 40, MiB),
  LOGFIRE_FIRE_IDLE_SECONDS: integer(60, 31_536_000, 86_400),
  LOGFIRE_FIRE_CREATE_RATE_LIMIT: integer(0, 1_000_000, 10),
  LOGFIRE_FIRE_RATE_LIMIT: integer(0, 100_000_000, 6000),
  LOGFIRE_FIRE_MAX_VIEWERS: integer(0, 10_000, 5),
  LOGFIRE_FIRE_MAX_HELD_CONNECTIONS: integer(0, 1_000_000, 16),
  LOGFIRE_FLATLINE_SECONDS: optionalNumber(1, 86_400),
  LOGFIRE_ADMIN_ROLE_PATTERN: z.preprocess(unset, z.string().regex(/^[^"\\]{1,200}$/, { error: 'a role ARN pattern with * wildcards, no quotes' }).default('*Admin*')),
  LOGFIRE_HEADERS_TIMEOUT_MS: integer(100, 3_600_000, 10_000),
  LOGFIRE_REQUEST_TIMEOUT_MS: integer(100, 3_600_000, 30_000),
  LOGFIRE_KEEP_ALIVE_TIMEOUT_MS: integer(100, 3_600_000, 72_000),
  LOGFIRE_IDLE_TIMEOUT_MS: integer(100, 3_600_000, 120_000)
})

/** The name of an environment variable logfire reads. */
export type Variable = keyof typeof ENVIRONMENT.shape

export interface Config {
  port: number
  host: string
  logLevel: typeof LOG_LEVELS[number]
  fireRate: number
  burnRate: number
  /** Undefined means "pick one at start"; the chosen seed is in every /logs response. */
  seed: string | undefined
  gdpr: boolean
  maxBlocks: number
  /** Every bound on memory that grows with traffic, in bytes unless named otherwise. */
  memory: MemoryBudgets
  maxBodyBytes: number
  maxEntryBytes: number
  /** Requests per minute per client on /logs routes; 0 turns the limit off. */
  rateLimit: number
  /** Requests per minute per client on the admin routes, so a token cannot be guessed at network speed; 0 turns it off. */
  adminRateLimit: number
  /** Undefined disables DELETE /logs. */
  adminToken: string | undefined
  /** Required by every ingest route when set, in each ecosystem's form. */
  ingestToken: string | undefined
  /** Required to read the chain (GET /logs...) when set. */
  readToken: string | undefined
  /** Required to scrape GET /metrics when set. */
  metricsToken: string | undefined
  chaosOverride: boolean
  /** The faults below the status line: LOGFIRE_CHAOS_PRESET, then each variable set. */
  faults: FaultSettings
  /** The chaos inside an accepted batch: items refused one by one, HEC acks that lie. */
  batches: BatchSettings
  /** Splunk HEC indexer acknowledgement (LOGFIRE_HEC_ACK): every request needs a channel, and gets an ackId. */
  hecAck: boolean
  /** A batch of more entries is refused with a 413; 0 takes any. */
  maxEntriesPerRequest: number
  /** The longest delay or slow transfer X-Logfire-Chaos may ask for. */
  maxForcedDelayMs: number
  /** A rules file (YAML or JSON) replacing the built-in rule pack. */
  rulesFile: string | undefined
  /** A scenario run from the start: a built-in's name, or a YAML or JSON file. */
  scenario: string | undefined
  /** The shared store, when replicas share one chain; in memory when undefined. */
  redis: (RedisServers & {
    namespace: string
    /** This replica's name in its metrics' `replica` label. */
    replica: string
    /** Redis replicas that must hold an append before its 200: 0 answers once the master has it. */
    waitReplicas?: number
  }) | undefined
  /** naivechain's peer-to-peer network: off unless `port` is set. */
  p2p: {
    port: number | undefined
    /** Peers dialled at start, and again with backoff. */
    peers: string[]
    /** Let POST /admin/peers dial public addresses, not only loopback and private ones. */
    allowPublic: boolean
    maxPeers: number
    maxMessageBytes: number
    maxChainMessageBytes: number
    messagesPerSecond: number
    /** never: the sink of record. longest: adopt a longer valid chain from a peer (in memory only). */
    accept: 'never' | 'longest'
  }
  /** The stream listeners (syslog over TCP, UDP, TLS): each is off while its port is undefined. */
  streams: {
    syslogTcpPort: number | undefined
    syslogUdpPort: number | undefined
    syslogTlsPort: number | undefined
    /** RELP (rsyslog's omrelp): acknowledged syslog. */
    relpPort: number | undefined
    /** Fluentd's Forward protocol v1 over TCP, with the UDP heartbeat on the same port. */
    forwardPort: number | undefined
    /** LOGFIRE_FORWARD_SHARED_KEY: Forward clients must pass the HELO/PING/PONG handshake with it. */
    forwardSharedKey: string | undefined
    /** GELF over TCP (NUL-terminated) and over UDP (compressed, chunked). */
    gelfTcpPort: number | undefined
    gelfUdpPort: number | undefined
    /** LOGFIRE_TLS_CERT and LOGFIRE_TLS_KEY: PEM files, read at start. */
    tls: { certFile: string, keyFile: string } | undefined
    /** TCP and TLS connections at once; past it, a new one is closed at once and counted. */
    maxConnections: number
    /** A connection with no traffic for this long is closed. */
    idleMs: number
  }
  /** Who may have a fire of their own (LOGFIRE_FIRES): nobody in `single` mode, anyone who asks in `open` mode. */
  fires: FireLimits
  /** Role ARNs whose AssumeRole raises the built-in "administrator role assumed" alert. */
  adminRolePattern: string
  /** Turns on the built-in flatline rule: no line stored for this long. */
  flatlineSeconds: number | undefined
  /** Trust X-Forwarded-For (and the rest) from a proxy in front: the rate limit then keys on the client it names. */
  trustProxy: boolean
  timeouts: {
    /** Until the request's headers have all arrived: slowloris is cut off here. */
    headersMs: number
    /** Until the whole request, body included, has arrived. */
    requestMs: number
    /** How long an idle keep-alive connection is kept between requests. */
    keepAliveMs: number
    /** A socket with no traffic either way is closed; above the stream's heartbeat. */
    idleMs: number
  }
}

export interface FireLimits {
  mode: 'single' | 'open'
  /** Fires created and not yet expired, the public fire aside; past it `503 LOGFIRE_FIRES_FULL`. */
  maxFires: number
  /** One created fire's chain as JSON: an append past it burns that fire ("memory budget"). */
  maxBytes: number
  /** A created fire nobody has used for this long goes out, tokens and all. */
  idleMs: number
  /** Fires a client (an IPv4 address, an IPv6 /64) may create a minute; 0 turns the limit off. */
  createRateLimit: number
  /** Requests a minute to one created fire's ingest and read routes, all clients together; 0 turns the limit off. */
  rateLimit: number
  /** Event-stream viewers of one created fire at once. */
  maxViewers: number
  /** Connections one fire's faults may hold open at once, within LOGFIRE_MAX_HELD_CONNECTIONS. */
  maxHeldConnections: number
}

export interface MemoryBudgets {
  /** The container's memory limit the budgets below derive from; undefined outside a container. */
  limit: number | undefined
  /** The chain's JSON text: an append that would pass it burns the chain (410). */
  maxChainBytes: number
  /** Request bodies being received at once, by their Content-Length; past it a 503. */
  maxInflightBytes: number
  /** Entries waiting for the alert rules, two bytes a character; past it they are dropped and counted. */
  maxAlertQueueBytes: number
  /** Open sockets; past it Node closes new connections at once. */
  maxConnections: number
  /** Connections held open by faults (delays, slow transfers, hangs) at once; past it such a fault becomes a 503. */
  maxHeldConnections: number
  /** Canary runs the scorecard keeps; past it the least recently active is forgotten. */
  maxCanaryRuns: number
  /** HEC ack channels remembered at once; past it the least recently used is forgotten. */
  maxAckChannels: number
  /** Acknowledgements pending per HEC channel; past it the oldest is forgotten (it reads false). */
  maxPendingAcks: number
  /** GET /logs/stream viewers at once; past it a 503. */
  maxStreamClients: number
  /** How far a viewer may fall behind the chain's head before it is dropped (it resumes with Last-Event-ID). */
  maxStreamLagBytes: number
}

/**
 * The memory the process is given: a container's cgroup limit, or undefined
 * outside one (cgroups then report a number past the machine's memory).
 */
export function containerMemoryLimit (constrained = process.constrainedMemory?.() ?? 0, machine = totalmem()): number | undefined {
  return constrained > 0 && constrained < machine ? constrained : undefined
}

/**
 * Defaults for the byte budgets. In a container the chain gets half of what
 * is left after 192 MiB for Node.js itself, requests and collection slack
 * (a long-running process needs about 200 MB beside its chain), so it burns
 * long before the kernel kills the process; outside one, fixed sizes.
 * docs/benchmarks.md has the memory each default needs.
 */
export function defaultBudgets (limit: number | undefined): Pick<MemoryBudgets, 'maxChainBytes' | 'maxInflightBytes' | 'maxAlertQueueBytes'> {
  if (limit === undefined) return { maxChainBytes: 256 * MiB, maxInflightBytes: 32 * MiB, maxAlertQueueBytes: 16 * MiB }
  const clamp = (value: number, low: number, high: number) => Math.floor(Math.min(high, Math.max(low, value)))
  return {
    maxChainBytes: clamp((limit - 192 * MiB) / 2, 8 * MiB, 2 ** 50),
    maxInflightBytes: clamp(limit / 16, 4 * MiB, 32 * MiB),
    maxAlertQueueBytes: clamp(limit / 32, 4 * MiB, 16 * MiB)
  }
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Reads and validates the configuration; throws a ConfigError naming each bad variable. */
export function loadConfig (env: Record<string, string | undefined>, memoryLimit?: number): Config {
  const parsed = ENVIRONMENT.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0])
      return `${name} must be ${issue.message}, got ${describeValue(name, env[name])}`
    })
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`)
  }
  const e = parsed.data
  const defaults = defaultBudgets(memoryLimit)
  if (e.LOGFIRE_HEADERS_TIMEOUT_MS > e.LOGFIRE_REQUEST_TIMEOUT_MS) {
    // Node refuses to start with headers allowed longer than the whole request.
    throw new ConfigError(`invalid configuration: LOGFIRE_HEADERS_TIMEOUT_MS (${e.LOGFIRE_HEADERS_TIMEOUT_MS}) must not be over LOGFIRE_REQUEST_TIMEOUT_MS (${e.LOGFIRE_REQUEST_TIMEOUT_MS})`)
  }
  if (e.LOGFIRE_REDIS_URL !== undefined && e.LOGFIRE_REDIS_CLUSTER !== undefined) {
    throw new ConfigError('invalid configuration: set LOGFIRE_REDIS_URL (one Redis) or LOGFIRE_REDIS_CLUSTER (a cluster\'s seed nodes), not both')
  }
  if (e.LOGFIRE_P2P_ACCEPT === 'longest' && (e.LOGFIRE_REDIS_URL !== undefined || e.LOGFIRE_REDIS_CLUSTER !== undefined)) {
    throw new ConfigError('invalid configuration: LOGFIRE_P2P_ACCEPT=longest needs the in-memory chain: replicas on Redis share one chain of record')
  }
  if (e.LOGFIRE_SYSLOG_TLS_PORT !== undefined && (e.LOGFIRE_TLS_CERT === undefined || e.LOGFIRE_TLS_KEY === undefined)) {
    throw new ConfigError('invalid configuration: LOGFIRE_SYSLOG_TLS_PORT needs LOGFIRE_TLS_CERT and LOGFIRE_TLS_KEY, the PEM files of its certificate and key (docs/streams.md)')
  }
  const maxChainBytes = e.LOGFIRE_MAX_CHAIN_BYTES ?? defaults.maxChainBytes
  if (e.LOGFIRE_FIRES === 'open') {
    // Every created fire's budget is set aside from the chain's, so that a full house fits too.
    if (e.LOGFIRE_MAX_FIRES * e.LOGFIRE_FIRE_MAX_BYTES > maxChainBytes - 64 * 1024) {
      throw new ConfigError(`invalid configuration: LOGFIRE_MAX_FIRES (${e.LOGFIRE_MAX_FIRES}) times LOGFIRE_FIRE_MAX_BYTES (${e.LOGFIRE_FIRE_MAX_BYTES}) must leave at least 65536 bytes of LOGFIRE_MAX_CHAIN_BYTES (${maxChainBytes}) to the public fire`)
    }
  }
  if (e.LOGFIRE_PEERS !== undefined && e.LOGFIRE_P2P_PORT === undefined) {
    throw new ConfigError('invalid configuration: LOGFIRE_PEERS needs LOGFIRE_P2P_PORT: the peer-to-peer network is off without it')
  }
  return {
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    fireRate: e.LOGFIRE_FIRE_RATE,
    burnRate: env.LOGFIRE_BURN_RATE === undefined || env.LOGFIRE_BURN_RATE === '' ? e.LOGFIRE_WIPE_RATE : e.LOGFIRE_BURN_RATE,
    seed: e.LOGFIRE_SEED,
    gdpr: e.LOGFIRE_GDPR,
    maxBlocks: e.LOGFIRE_MAX_BLOCKS,
    memory: {
      limit: memoryLimit,
      // In open mode the public fire keeps what the created fires' budgets leave.
      maxChainBytes: e.LOGFIRE_FIRES === 'open' ? maxChainBytes - e.LOGFIRE_MAX_FIRES * e.LOGFIRE_FIRE_MAX_BYTES : maxChainBytes,
      maxInflightBytes: e.LOGFIRE_MAX_INFLIGHT_BYTES ?? defaults.maxInflightBytes,
      maxAlertQueueBytes: e.LOGFIRE_MAX_ALERT_QUEUE_BYTES ?? defaults.maxAlertQueueBytes,
      maxConnections: e.LOGFIRE_MAX_CONNECTIONS,
      maxHeldConnections: e.LOGFIRE_MAX_HELD_CONNECTIONS,
      maxCanaryRuns: e.LOGFIRE_MAX_CANARY_RUNS,
      maxAckChannels: e.LOGFIRE_MAX_ACK_CHANNELS,
      maxPendingAcks: e.LOGFIRE_MAX_PENDING_ACKS,
      maxStreamClients: e.LOGFIRE_MAX_STREAM_CLIENTS,
      maxStreamLagBytes: e.LOGFIRE_MAX_STREAM_LAG_BYTES
    },
    maxBodyBytes: e.LOGFIRE_MAX_BODY_BYTES,
    maxEntryBytes: e.LOGFIRE_MAX_ENTRY_BYTES,
    rateLimit: e.LOGFIRE_RATE_LIMIT,
    adminRateLimit: e.LOGFIRE_ADMIN_RATE_LIMIT,
    adminToken: e.LOGFIRE_ADMIN_TOKEN,
    ingestToken: e.LOGFIRE_INGEST_TOKEN,
    readToken: e.LOGFIRE_READ_TOKEN,
    metricsToken: e.LOGFIRE_METRICS_TOKEN,
    chaosOverride: e.LOGFIRE_CHAOS_OVERRIDE,
    faults: faultSettings(e),
    batches: {
      itemRejectRate: e.LOGFIRE_ITEM_REJECT_RATE,
      itemRejectStatuses: e.LOGFIRE_ITEM_REJECT_STATUSES ?? NO_BATCH_CHAOS.itemRejectStatuses,
      ackLossRate: e.LOGFIRE_ACK_LOSS_RATE,
      ackDelayRate: e.LOGFIRE_ACK_DELAY_RATE,
      ackDelayMs: e.LOGFIRE_ACK_DELAY_MS
    },
    hecAck: e.LOGFIRE_HEC_ACK,
    maxEntriesPerRequest: e.LOGFIRE_MAX_ENTRIES_PER_REQUEST,
    maxForcedDelayMs: e.LOGFIRE_MAX_FORCED_DELAY_MS,
    trustProxy: e.LOGFIRE_TRUST_PROXY,
    rulesFile: e.LOGFIRE_RULES,
    scenario: e.LOGFIRE_SCENARIO,
    redis: e.LOGFIRE_REDIS_URL !== undefined
      ? { url: e.LOGFIRE_REDIS_URL, namespace: e.LOGFIRE_REDIS_NAMESPACE, replica: e.LOGFIRE_REPLICA_NAME ?? hostname(), waitReplicas: e.LOGFIRE_REDIS_WAIT }
      : e.LOGFIRE_REDIS_CLUSTER !== undefined
        ? { cluster: e.LOGFIRE_REDIS_CLUSTER, namespace: e.LOGFIRE_REDIS_NAMESPACE, replica: e.LOGFIRE_REPLICA_NAME ?? hostname(), waitReplicas: e.LOGFIRE_REDIS_WAIT }
        : undefined,
    streams: {
      syslogTcpPort: e.LOGFIRE_SYSLOG_TCP_PORT,
      syslogUdpPort: e.LOGFIRE_SYSLOG_UDP_PORT,
      syslogTlsPort: e.LOGFIRE_SYSLOG_TLS_PORT,
      relpPort: e.LOGFIRE_RELP_PORT,
      forwardPort: e.LOGFIRE_FORWARD_PORT,
      forwardSharedKey: e.LOGFIRE_FORWARD_SHARED_KEY,
      gelfTcpPort: e.LOGFIRE_GELF_TCP_PORT,
      gelfUdpPort: e.LOGFIRE_GELF_UDP_PORT,
      tls: e.LOGFIRE_TLS_CERT === undefined || e.LOGFIRE_TLS_KEY === undefined ? undefined : { certFile: e.LOGFIRE_TLS_CERT, keyFile: e.LOGFIRE_TLS_KEY },
      maxConnections: e.LOGFIRE_MAX_STREAM_CONNECTIONS,
      idleMs: e.LOGFIRE_STREAM_IDLE_TIMEOUT_MS
    },
    fires: {
      mode: e.LOGFIRE_FIRES,
      maxFires: e.LOGFIRE_MAX_FIRES,
      maxBytes: e.LOGFIRE_FIRE_MAX_BYTES,
      idleMs: e.LOGFIRE_FIRE_IDLE_SECONDS * 1000,
      createRateLimit: e.LOGFIRE_FIRE_CREATE_RATE_LIMIT,
      rateLimit: e.LOGFIRE_FIRE_RATE_LIMIT,
      maxViewers: e.LOGFIRE_FIRE_MAX_VIEWERS,
      maxHeldConnections: e.LOGFIRE_FIRE_MAX_HELD_CONNECTIONS
    },
    adminRolePattern: e.LOGFIRE_ADMIN_ROLE_PATTERN,
    flatlineSeconds: e.LOGFIRE_FLATLINE_SECONDS,
    p2p: {
      port: e.LOGFIRE_P2P_PORT,
      peers: e.LOGFIRE_PEERS ?? [],
      allowPublic: e.LOGFIRE_P2P_ALLOW_PUBLIC,
      maxPeers: e.LOGFIRE_P2P_MAX_PEERS,
      maxMessageBytes: e.LOGFIRE_P2P_MAX_MESSAGE_BYTES,
      maxChainMessageBytes: e.LOGFIRE_P2P_MAX_CHAIN_MESSAGE_BYTES,
      messagesPerSecond: e.LOGFIRE_P2P_MESSAGES_PER_SECOND,
      accept: e.LOGFIRE_P2P_ACCEPT
    },
    timeouts: {
      headersMs: e.LOGFIRE_HEADERS_TIMEOUT_MS,
      requestMs: e.LOGFIRE_REQUEST_TIMEOUT_MS,
      keepAliveMs: e.LOGFIRE_KEEP_ALIVE_TIMEOUT_MS,
      idleMs: e.LOGFIRE_IDLE_TIMEOUT_MS
    }
  }
}

/** Each fault setting from its variable when set, else from the preset, else off. */
function faultSettings (e: z.infer<typeof ENVIRONMENT>): FaultSettings {
  const set = Object.fromEntries(Object.entries({
    delayRate: e.LOGFIRE_DELAY_RATE,
    delayMs: e.LOGFIRE_DELAY_MS,
    delayJitterMs: e.LOGFIRE_DELAY_JITTER_MS,
    delayDistribution: e.LOGFIRE_DELAY_DISTRIBUTION,
    delaySigma: e.LOGFIRE_DELAY_SIGMA,
    slowReadRate: e.LOGFIRE_SLOW_READ_RATE,
    slowReadBytesPerSecond: e.LOGFIRE_SLOW_READ_BYTES_PER_SECOND,
    slowResponseRate: e.LOGFIRE_SLOW_RESPONSE_RATE,
    slowResponseMs: e.LOGFIRE_SLOW_RESPONSE_MS,
    hangRate: e.LOGFIRE_HANG_RATE,
    hangMs: e.LOGFIRE_HANG_MS,
    resetRate: e.LOGFIRE_RESET_RATE,
    resetAfterAppendRate: e.LOGFIRE_RESET_AFTER_APPEND_RATE,
    closeRate: e.LOGFIRE_CLOSE_RATE,
    garbageRate: e.LOGFIRE_GARBAGE_RATE,
    statusRate: e.LOGFIRE_STATUS_RATE,
    statusCodes: e.LOGFIRE_STATUS_CODES,
    streamResetRate: e.LOGFIRE_STREAM_RESET_RATE,
    streamResetAfterAppendRate: e.LOGFIRE_STREAM_RESET_AFTER_APPEND_RATE,
    streamCloseRate: e.LOGFIRE_STREAM_CLOSE_RATE,
    streamStallRate: e.LOGFIRE_STREAM_STALL_RATE,
    streamStallResetRate: e.LOGFIRE_STREAM_STALL_RESET_RATE,
    streamStallMs: e.LOGFIRE_STREAM_STALL_MS,
    streamSlowReadRate: e.LOGFIRE_STREAM_SLOW_READ_RATE,
    streamSlowReadBytesPerSecond: e.LOGFIRE_STREAM_SLOW_READ_BYTES_PER_SECOND,
    streamSlowReadMs: e.LOGFIRE_STREAM_SLOW_READ_MS,
    streamHangRate: e.LOGFIRE_STREAM_HANG_RATE,
    streamNakRate: e.LOGFIRE_STREAM_NAK_RATE,
    streamAckLossRate: e.LOGFIRE_STREAM_ACK_LOSS_RATE,
    streamAckWrongRate: e.LOGFIRE_STREAM_ACK_WRONG_RATE
  } satisfies Record<keyof FaultSettings, unknown>).filter(([, value]) => value !== undefined))
  const preset = e.LOGFIRE_CHAOS_PRESET === undefined ? {} : CHAOS_PRESETS[e.LOGFIRE_CHAOS_PRESET]
  return { ...NO_FAULT_SETTINGS, ...preset, ...set }
}

// Secrets never reach the terminal, and a pasted novel is cut short.
function describeValue (name: string, value: string | undefined): string {
  // A Redis URL may carry its password.
  if (name.endsWith('_TOKEN') || name === 'LOGFIRE_REDIS_URL' || name === 'LOGFIRE_REDIS_CLUSTER') return 'a value that is not shown'
  const shown = value !== undefined && value.length > 40 ? value.slice(0, 40) + '…' : value
  return JSON.stringify(shown)
}
