import { hostname } from 'node:os'
import { describe, expect, it } from 'vitest'
import { ConfigError, containerMemoryLimit, defaultBudgets, loadConfig } from '../src/config.js'
import { NO_BATCH_CHAOS } from '../src/fire/batches.js'
import { CHAOS_PRESETS, FAULT_NAMES, FAULT_RATES, NO_FAULT_SETTINGS } from '../src/fire/faults.js'

const MiB = 1024 * 1024

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'info',
      fireRate: 0.05,
      burnRate: 0.02,
      seed: undefined,
      gdpr: true,
      maxBlocks: 100_000,
      memory: {
        limit: undefined,
        maxChainBytes: 256 * MiB,
        maxInflightBytes: 32 * MiB,
        maxAlertQueueBytes: 16 * MiB,
        maxConnections: 1024,
        maxHeldConnections: 256,
        maxCanaryRuns: 100,
        maxAckChannels: 10_000,
        maxPendingAcks: 10_000,
        maxStreamClients: 100,
        maxStreamLagBytes: 4 * MiB
      },
      maxBodyBytes: 1_048_576,
      maxEntryBytes: 65_536,
      rateLimit: 10_000,
      adminRateLimit: 300,
      adminToken: undefined,
      ingestToken: undefined,
      readToken: undefined,
      metricsToken: undefined,
      chaosOverride: true,
      faults: NO_FAULT_SETTINGS,
      batches: NO_BATCH_CHAOS,
      hecAck: false,
      maxEntriesPerRequest: 0,
      maxForcedDelayMs: 60_000,
      trustProxy: false,
      rulesFile: undefined,
      scenario: undefined,
      fires: { mode: 'single', maxFires: 100, maxBytes: MiB, idleMs: 86_400_000, createRateLimit: 10, rateLimit: 6000, maxViewers: 5, maxHeldConnections: 16 },
      adminRolePattern: '*Admin*',
      flatlineSeconds: undefined,
      p2p: { port: undefined, peers: [], allowPublic: false, maxPeers: 32, maxMessageBytes: 1024 * 1024, maxChainMessageBytes: 64 * MiB, messagesPerSecond: 50, accept: 'never' },
      streams: { syslogTcpPort: undefined, syslogUdpPort: undefined, syslogTlsPort: undefined, relpPort: undefined, forwardPort: undefined, forwardSharedKey: undefined, gelfTcpPort: undefined, gelfUdpPort: undefined, tls: undefined, maxConnections: 1024, idleMs: 3_600_000 },
      timeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 72_000, idleMs: 120_000 }
    })
  })

  it('reads every variable', () => {
    // toStrictEqual: a key left undefined by mistake fails too.
    expect(loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      LOG_LEVEL: 'warn',
      LOGFIRE_FIRE_RATE: '0.5',
      LOGFIRE_WIPE_RATE: '0',
      LOGFIRE_SEED: 'demo seed',
      LOGFIRE_REDIS_URL: 'unix:///run/redis/redis.sock',
      LOGFIRE_REDIS_NAMESPACE: 'staging',
      LOGFIRE_REDIS_WAIT: '1',
      LOGFIRE_REPLICA_NAME: 'logfire-2',
      LOGFIRE_GDPR: 'false',
      LOGFIRE_MAX_BLOCKS: '10',
      LOGFIRE_MAX_CHAIN_BYTES: '100000',
      LOGFIRE_MAX_INFLIGHT_BYTES: '200000',
      LOGFIRE_MAX_ALERT_QUEUE_BYTES: '0',
      LOGFIRE_MAX_CONNECTIONS: '50',
      LOGFIRE_MAX_STREAM_CLIENTS: '5',
      LOGFIRE_MAX_STREAM_LAG_BYTES: '70000',
      LOGFIRE_ADMIN_RATE_LIMIT: '20',
      LOGFIRE_MAX_BODY_BYTES: '2048',
      LOGFIRE_MAX_ENTRY_BYTES: '100',
      LOGFIRE_RATE_LIMIT: '0',
      LOGFIRE_ADMIN_TOKEN: 'secret',
      LOGFIRE_INGEST_TOKEN: 'ingest',
      LOGFIRE_READ_TOKEN: 'read',
      LOGFIRE_METRICS_TOKEN: 'metrics',
      LOGFIRE_CHAOS_OVERRIDE: 'off',
      LOGFIRE_CHAOS_PRESET: 'hostile-network',
      LOGFIRE_DELAY_RATE: '0.1',
      LOGFIRE_DELAY_MS: '100',
      LOGFIRE_DELAY_JITTER_MS: '20',
      LOGFIRE_DELAY_DISTRIBUTION: 'uniform',
      LOGFIRE_DELAY_SIGMA: '1',
      LOGFIRE_SLOW_READ_RATE: '0.2',
      LOGFIRE_SLOW_READ_BYTES_PER_SECOND: '1000',
      LOGFIRE_SLOW_RESPONSE_RATE: '0.3',
      LOGFIRE_SLOW_RESPONSE_MS: '300',
      LOGFIRE_HANG_RATE: '0.4',
      LOGFIRE_HANG_MS: '400',
      LOGFIRE_RESET_RATE: '0.5',
      LOGFIRE_RESET_AFTER_APPEND_RATE: '0.6',
      LOGFIRE_CLOSE_RATE: '0.7',
      LOGFIRE_GARBAGE_RATE: '0.8',
      LOGFIRE_STATUS_RATE: '0.9',
      LOGFIRE_STATUS_CODES: '429, 502',
      LOGFIRE_STREAM_RESET_RATE: '0.11',
      LOGFIRE_STREAM_RESET_AFTER_APPEND_RATE: '0.12',
      LOGFIRE_STREAM_CLOSE_RATE: '0.13',
      LOGFIRE_STREAM_STALL_RATE: '0.14',
      LOGFIRE_STREAM_STALL_RESET_RATE: '0.15',
      LOGFIRE_STREAM_STALL_MS: '1600',
      LOGFIRE_STREAM_SLOW_READ_RATE: '0.17',
      LOGFIRE_STREAM_SLOW_READ_BYTES_PER_SECOND: '1800',
      LOGFIRE_STREAM_SLOW_READ_MS: '1900',
      LOGFIRE_STREAM_HANG_RATE: '0.2',
      LOGFIRE_SYSLOG_TCP_PORT: '1514',
      LOGFIRE_SYSLOG_UDP_PORT: '1515',
      LOGFIRE_SYSLOG_TLS_PORT: '6514',
      LOGFIRE_RELP_PORT: '2514',
      LOGFIRE_FORWARD_PORT: '24224',
      LOGFIRE_FORWARD_SHARED_KEY: 'fluent-secret',
      LOGFIRE_GELF_TCP_PORT: '12201',
      LOGFIRE_GELF_UDP_PORT: '12202',
      LOGFIRE_STREAM_ACK_WRONG_RATE: '0.23',
      LOGFIRE_STREAM_NAK_RATE: '0.21',
      LOGFIRE_STREAM_ACK_LOSS_RATE: '0.22',
      LOGFIRE_TLS_CERT: 'cert.pem',
      LOGFIRE_TLS_KEY: 'key.pem',
      LOGFIRE_MAX_STREAM_CONNECTIONS: '9',
      LOGFIRE_STREAM_IDLE_TIMEOUT_MS: '60000',
      LOGFIRE_MAX_ENTRIES_PER_REQUEST: '500',
      LOGFIRE_MAX_FORCED_DELAY_MS: '5000',
      LOGFIRE_MAX_HELD_CONNECTIONS: '8',
      LOGFIRE_MAX_CANARY_RUNS: '3',
      LOGFIRE_ITEM_REJECT_RATE: '0.25',
      LOGFIRE_ITEM_REJECT_STATUSES: '429, 409',
      LOGFIRE_HEC_ACK: 'true',
      LOGFIRE_ACK_LOSS_RATE: '0.1',
      LOGFIRE_ACK_DELAY_RATE: '0.2',
      LOGFIRE_ACK_DELAY_MS: '500',
      LOGFIRE_MAX_ACK_CHANNELS: '4',
      LOGFIRE_MAX_PENDING_ACKS: '5',
      LOGFIRE_TRUST_PROXY: 'true',
      LOGFIRE_P2P_PORT: '6001',
      LOGFIRE_PEERS: 'ws://10.0.0.2:6001, ws://10.0.0.3:6001',
      LOGFIRE_P2P_ALLOW_PUBLIC: 'true',
      LOGFIRE_P2P_MAX_PEERS: '3',
      LOGFIRE_P2P_MAX_MESSAGE_BYTES: '2048',
      LOGFIRE_P2P_MAX_CHAIN_MESSAGE_BYTES: '4096',
      LOGFIRE_P2P_MESSAGES_PER_SECOND: '7',
      LOGFIRE_P2P_ACCEPT: 'never',
      LOGFIRE_RULES: 'rules.yaml',
      LOGFIRE_SCENARIO: 'flaky',
      LOGFIRE_ADMIN_ROLE_PATTERN: '*:role/Break*Glass',
      LOGFIRE_FIRES: 'single',
      LOGFIRE_MAX_FIRES: '7',
      LOGFIRE_FIRE_MAX_BYTES: '70000',
      LOGFIRE_FIRE_IDLE_SECONDS: '600',
      LOGFIRE_FIRE_CREATE_RATE_LIMIT: '3',
      LOGFIRE_FIRE_RATE_LIMIT: '120',
      LOGFIRE_FIRE_MAX_VIEWERS: '2',
      LOGFIRE_FIRE_MAX_HELD_CONNECTIONS: '3',
      LOGFIRE_FLATLINE_SECONDS: '300',
      LOGFIRE_HEADERS_TIMEOUT_MS: '1000',
      LOGFIRE_REQUEST_TIMEOUT_MS: '2000',
      LOGFIRE_KEEP_ALIVE_TIMEOUT_MS: '3000',
      LOGFIRE_IDLE_TIMEOUT_MS: '4000'
    })).toStrictEqual({
      port: 8080,
      host: '0.0.0.0',
      logLevel: 'warn',
      fireRate: 0.5,
      burnRate: 0,
      seed: 'demo seed',
      gdpr: false,
      maxBlocks: 10,
      memory: {
        limit: undefined,
        maxChainBytes: 100_000,
        maxInflightBytes: 200_000,
        maxAlertQueueBytes: 0,
        maxConnections: 50,
        maxHeldConnections: 8,
        maxCanaryRuns: 3,
        maxAckChannels: 4,
        maxPendingAcks: 5,
        maxStreamClients: 5,
        maxStreamLagBytes: 70_000
      },
      maxBodyBytes: 2048,
      maxEntryBytes: 100,
      rateLimit: 0,
      adminRateLimit: 20,
      adminToken: 'secret',
      ingestToken: 'ingest',
      readToken: 'read',
      metricsToken: 'metrics',
      chaosOverride: false,
      faults: {
        delayRate: 0.1,
        delayMs: 100,
        delayJitterMs: 20,
        delayDistribution: 'uniform',
        delaySigma: 1,
        slowReadRate: 0.2,
        slowReadBytesPerSecond: 1000,
        slowResponseRate: 0.3,
        slowResponseMs: 300,
        hangRate: 0.4,
        hangMs: 400,
        resetRate: 0.5,
        resetAfterAppendRate: 0.6,
        closeRate: 0.7,
        garbageRate: 0.8,
        statusRate: 0.9,
        statusCodes: [429, 502],
        streamResetRate: 0.11,
        streamResetAfterAppendRate: 0.12,
        streamCloseRate: 0.13,
        streamStallRate: 0.14,
        streamStallResetRate: 0.15,
        streamStallMs: 1600,
        streamSlowReadRate: 0.17,
        streamSlowReadBytesPerSecond: 1800,
        streamSlowReadMs: 1900,
        streamHangRate: 0.2,
        streamNakRate: 0.21,
        streamAckLossRate: 0.22,
        streamAckWrongRate: 0.23
      },
      batches: { itemRejectRate: 0.25, itemRejectStatuses: [429, 409], ackLossRate: 0.1, ackDelayRate: 0.2, ackDelayMs: 500 },
      hecAck: true,
      maxEntriesPerRequest: 500,
      maxForcedDelayMs: 5000,
      trustProxy: true,
      rulesFile: 'rules.yaml',
      scenario: 'flaky',
      redis: { url: 'unix:///run/redis/redis.sock', namespace: 'staging', replica: 'logfire-2', waitReplicas: 1 },
      fires: { mode: 'single', maxFires: 7, maxBytes: 70_000, idleMs: 600_000, createRateLimit: 3, rateLimit: 120, maxViewers: 2, maxHeldConnections: 3 },
      adminRolePattern: '*:role/Break*Glass',
      flatlineSeconds: 300,
      p2p: { port: 6001, peers: ['ws://10.0.0.2:6001', 'ws://10.0.0.3:6001'], allowPublic: true, maxPeers: 3, maxMessageBytes: 2048, maxChainMessageBytes: 4096, messagesPerSecond: 7, accept: 'never' },
      streams: { syslogTcpPort: 1514, syslogUdpPort: 1515, syslogTlsPort: 6514, relpPort: 2514, forwardPort: 24224, forwardSharedKey: 'fluent-secret', gelfTcpPort: 12201, gelfUdpPort: 12202, tls: { certFile: 'cert.pem', keyFile: 'key.pem' }, maxConnections: 9, idleMs: 60_000 },
      timeouts: { headersMs: 1000, requestMs: 2000, keepAliveMs: 3000, idleMs: 4000 }
    })
  })

  it('takes LOGFIRE_WIPE_RATE, the old name of LOGFIRE_BURN_RATE, and the new name wins', () => {
    expect(loadConfig({ LOGFIRE_WIPE_RATE: '0.3' }).burnRate).toBe(0.3)
    expect(loadConfig({ LOGFIRE_BURN_RATE: '0.4' }).burnRate).toBe(0.4)
    expect(loadConfig({ LOGFIRE_BURN_RATE: '0.4', LOGFIRE_WIPE_RATE: '0.3' }).burnRate).toBe(0.4)
  })

  it('turns every fault on with LOGFIRE_CHAOS_PRESET=hostile-network, and a variable set on its own wins', () => {
    const { faults } = loadConfig({ LOGFIRE_CHAOS_PRESET: 'hostile-network', LOGFIRE_RESET_RATE: '0', LOGFIRE_HANG_MS: '5000' })
    expect(faults).toEqual({ ...NO_FAULT_SETTINGS, ...CHAOS_PRESETS['hostile-network'], resetRate: 0, hangMs: 5000 })
    for (const name of FAULT_NAMES.filter((fault) => fault !== 'reset')) expect(faults[FAULT_RATES[name]]).toBeGreaterThan(0)
    for (const name of FAULT_NAMES) expect(loadConfig({}).faults[FAULT_RATES[name]]).toBe(0)
  })

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', LOGFIRE_GDPR: '' })).toMatchObject({ port: 3000, gdpr: true })
  })

  it.each([
    [{ LOGFIRE_FIRE_RATE: '2' }, 'LOGFIRE_FIRE_RATE must be a number from 0 to 1, got "2"'],
    [{ LOGFIRE_WIPE_RATE: '-0.1' }, 'LOGFIRE_WIPE_RATE must be a number from 0 to 1'],
    [{ LOGFIRE_BURN_RATE: '1.1' }, 'LOGFIRE_BURN_RATE must be a number from 0 to 1'],
    [{ PORT: 'abc' }, 'PORT must be an integer from 0 to 65535, got "abc"'],
    [{ PORT: '70000' }, 'PORT must be an integer'],
    [{ LOGFIRE_MAX_BLOCKS: '1.5' }, 'LOGFIRE_MAX_BLOCKS must be an integer'],
    [{ LOGFIRE_GDPR: 'maybe' }, 'LOGFIRE_GDPR must be true or false, got "maybe"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent'],
    [{ LOGFIRE_SEED: 'émoji 🔥' }, 'LOGFIRE_SEED must be printable ASCII'],
    [{ LOGFIRE_MAX_CHAIN_BYTES: '512MB' }, 'LOGFIRE_MAX_CHAIN_BYTES must be an integer from 65536'],
    [{ LOGFIRE_MAX_CHAIN_BYTES: '1000' }, 'LOGFIRE_MAX_CHAIN_BYTES must be an integer from 65536'],
    [{ LOGFIRE_MAX_STREAM_CLIENTS: '-1' }, 'LOGFIRE_MAX_STREAM_CLIENTS must be an integer from 0'],
    [{ LOGFIRE_CHAOS_PRESET: 'apocalypse' }, 'LOGFIRE_CHAOS_PRESET must be one of hostile-network, got "apocalypse"'],
    [{ LOGFIRE_SYSLOG_TCP_PORT: '70000' }, 'LOGFIRE_SYSLOG_TCP_PORT must be an integer from 0 to 65535, got "70000"'],
    [{ LOGFIRE_SYSLOG_TLS_PORT: '6514' }, 'LOGFIRE_SYSLOG_TLS_PORT needs LOGFIRE_TLS_CERT and LOGFIRE_TLS_KEY'],
    [{ LOGFIRE_STREAM_STALL_RESET_RATE: '2' }, 'LOGFIRE_STREAM_STALL_RESET_RATE must be a number from 0 to 1, got "2"'],
    [{ LOGFIRE_RESET_RATE: '5%' }, 'LOGFIRE_RESET_RATE must be a number from 0 to 1, got "5%"'],
    [{ LOGFIRE_DELAY_DISTRIBUTION: 'normal' }, 'LOGFIRE_DELAY_DISTRIBUTION must be uniform or lognormal'],
    [{ LOGFIRE_ITEM_REJECT_STATUSES: '418' }, 'LOGFIRE_ITEM_REJECT_STATUSES must be a comma-separated list of 400, 409, 429, 500, 503'],
    [{ LOGFIRE_PEERS: 'http://10.0.0.2:6001', LOGFIRE_P2P_PORT: '6001' }, 'LOGFIRE_PEERS must be a comma-separated list of ws:// or wss:// URLs'],
    [{ LOGFIRE_PEERS: 'ws://10.0.0.2:6001' }, 'LOGFIRE_PEERS needs LOGFIRE_P2P_PORT'],
    [{ LOGFIRE_P2P_ACCEPT: 'always' }, 'LOGFIRE_P2P_ACCEPT must be never or longest'],
    [{ LOGFIRE_P2P_ACCEPT: 'longest', LOGFIRE_REDIS_URL: 'redis://localhost' }, 'LOGFIRE_P2P_ACCEPT=longest needs the in-memory chain'],
    [{ LOGFIRE_ACK_LOSS_RATE: '2' }, 'LOGFIRE_ACK_LOSS_RATE must be a number from 0 to 1'],
    [{ LOGFIRE_STATUS_CODES: '200' }, 'LOGFIRE_STATUS_CODES must be a comma-separated list of statuses from 400 to 599'],
    [{ LOGFIRE_STATUS_CODES: '503,' }, 'LOGFIRE_STATUS_CODES must be a comma-separated list'],
    [{ LOGFIRE_HANG_MS: '0' }, 'LOGFIRE_HANG_MS must be an integer from 1'],
    [{ LOGFIRE_FLATLINE_SECONDS: 'soon' }, 'LOGFIRE_FLATLINE_SECONDS must be a number from 1 to 86400'],
    [{ LOGFIRE_SLOW_READ_BYTES_PER_SECOND: '0' }, 'LOGFIRE_SLOW_READ_BYTES_PER_SECOND must be an integer from 1'],
    [{ LOGFIRE_MAX_ENTRIES_PER_REQUEST: '-1' }, 'LOGFIRE_MAX_ENTRIES_PER_REQUEST must be an integer from 0']
  ])('refuses %j naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError)
    expect(() => loadConfig(env)).toThrow(message)
  })

  it('names every bad variable at once', () => {
    expect(() => loadConfig({ PORT: 'x', LOGFIRE_FIRE_RATE: 'y' })).toThrow(/PORT.*; LOGFIRE_FIRE_RATE/)
  })

  it('never prints a token it refuses', () => {
    const token = 'x'.repeat(2000)
    expect(() => loadConfig({ LOGFIRE_ADMIN_TOKEN: token })).toThrow(/LOGFIRE_ADMIN_TOKEN must be at most 1024 characters, got a value that is not shown/)
  })

  it('takes redis://, rediss:// and unix:// URLs for Redis, and never prints one it refuses (it may hold a password)', () => {
    for (const url of ['redis://localhost:6379', 'rediss://:pw@redis.example:6380/2', 'unix:///tmp/redis.sock']) {
      expect(loadConfig({ LOGFIRE_REDIS_URL: url }).redis).toEqual({ url, namespace: 'logfire', replica: hostname(), waitReplicas: 0 })
    }
    // A cluster: its seed nodes; never both.
    expect(loadConfig({ LOGFIRE_REDIS_CLUSTER: 'redis://a:7000,rediss://:pw@b:7001' }).redis).toEqual({ cluster: ['redis://a:7000', 'rediss://:pw@b:7001'], namespace: 'logfire', replica: hostname(), waitReplicas: 0 })
    expect(() => loadConfig({ LOGFIRE_REDIS_CLUSTER: 'redis://a:7000, http://:hunter2@b' })).toThrow(/LOGFIRE_REDIS_CLUSTER must be redis:\/\/ or rediss:\/\/ URLs of seed nodes, comma-separated, got a value that is not shown/)
    expect(() => loadConfig({ LOGFIRE_REDIS_CLUSTER: 'redis://a:7000', LOGFIRE_REDIS_URL: 'redis://b' })).toThrow(/LOGFIRE_REDIS_URL .*or LOGFIRE_REDIS_CLUSTER.*not both/)
    expect(() => loadConfig({ LOGFIRE_REDIS_WAIT: '17' })).toThrow(/LOGFIRE_REDIS_WAIT/)
    expect(loadConfig({}).redis).toBeUndefined()
    expect(() => loadConfig({ LOGFIRE_REDIS_URL: 'http://:hunter2@redis' })).toThrow(/LOGFIRE_REDIS_URL must be a redis:\/\/, rediss:\/\/ or unix:\/\/\/path URL, got a value that is not shown/)
    expect(() => loadConfig({ LOGFIRE_REDIS_NAMESPACE: 'a b' })).toThrow(/LOGFIRE_REDIS_NAMESPACE/)
  })
})

describe('memory budgets', () => {
  it('derive from a container\'s memory limit, so the chain burns before the kernel kills the process', () => {
    expect(loadConfig({}, 512 * MiB).memory).toMatchObject({ limit: 512 * MiB, maxChainBytes: 160 * MiB, maxInflightBytes: 32 * MiB, maxAlertQueueBytes: 16 * MiB })
    expect(defaultBudgets(256 * MiB)).toEqual({ maxChainBytes: 32 * MiB, maxInflightBytes: 16 * MiB, maxAlertQueueBytes: 8 * MiB })
    // A tiny container still gets a chain, and a big one a big chain.
    expect(defaultBudgets(64 * MiB)).toEqual({ maxChainBytes: 8 * MiB, maxInflightBytes: 4 * MiB, maxAlertQueueBytes: 4 * MiB })
    expect(defaultBudgets(8192 * MiB).maxChainBytes).toBe(4000 * MiB)
  })

  it('are fixed outside a container, and a variable beats the derived value', () => {
    expect(defaultBudgets(undefined)).toEqual({ maxChainBytes: 256 * MiB, maxInflightBytes: 32 * MiB, maxAlertQueueBytes: 16 * MiB })
    expect(loadConfig({ LOGFIRE_MAX_CHAIN_BYTES: '1000000' }, 512 * MiB).memory.maxChainBytes).toBe(1_000_000)
  })

  it('read a cgroup limit as a container, and "no limit" (a number past the machine\'s memory) as none', () => {
    expect(containerMemoryLimit(512 * MiB, 24 * 1024 * MiB)).toBe(512 * MiB)
    expect(containerMemoryLimit(2 ** 64, 24 * 1024 * MiB)).toBeUndefined()
    expect(containerMemoryLimit(0, 24 * 1024 * MiB)).toBeUndefined()
  })
})
