import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client'
import type { Chain } from '../chain/chain.js'
import { faultLabel } from '../fire/stream-faults.js'
import type { HeldConnections } from '../fire/held.js'
import type { StreamListeners } from '../listeners/listeners.js'
import type { PeerNetwork } from '../peers/network.js'
import type { RunReport } from '../scorecard/run-score.js'
import type { Scorecard } from '../scorecard/scorecard.js'
import { RequestTally, type SeriesValue } from './request-tally.js'

/**
 * logfire's Prometheus metrics, in a registry of its own (never prom-client's
 * global one, so apps in one process do not share counters). The chain's
 * events feed the counters; requests are observed by the HTTP layer.
 */
export function createMetrics (chain: Chain, held: HeldConnections, scorecard: Scorecard, replica?: string, peers?: PeerNetwork, listeners?: StreamListeners, redis?: { readonly lostBlocks: number }) {
  const registry = new Registry()
  // Replicas each count their own: a scrape of several tells them apart.
  if (replica !== undefined) registry.setDefaultLabels({ replica })
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 })

  // Counted with plain arithmetic per request, made into series only when scraped.
  const tally = new RequestTally([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5])
  registerSeries(registry, 'logfire_http_requests_total', 'HTTP requests answered, by route and status code', 'counter', () => tally.requests())
  registerSeries(registry, 'logfire_http_request_duration_seconds', 'Time from request to response, by route', 'histogram', () => tally.durations('logfire_http_request_duration_seconds'))
  const appended = new Counter({ name: 'logfire_blocks_appended_total', help: 'Blocks this replica appended to the chain', registers: [registry] })
  const burns = new Counter({
    name: 'logfire_burns_total',
    help: "Times the chain burned down, by reason: random, memory budget, admin, replaced (a peer's longer chain adopted), scenario",
    labelNames: ['reason'] as const,
    registers: [registry]
  })
  const fires = new Counter({ name: 'logfire_lp0_fires_total', help: 'Requests answered 503 lp0 on fire', registers: [registry] })
  const faults = new Counter({
    name: 'logfire_faults_total',
    help: 'Faults injected, by fault: on HTTP delay, slow-read, slow-response, hang, reset, reset-after-append, close, garbage, status; on streams also stall and "stall, reset"',
    labelNames: ['fault'] as const,
    registers: [registry]
  })
  if (peers !== undefined) {
    // eslint-disable-next-line no-new -- registered on creation, read through collect()
    new Gauge({
      name: 'logfire_peers_connected',
      help: 'naivechain peers connected, both ways',
      registers: [registry],
      collect () { this.set(peers.size) }
    })
    // eslint-disable-next-line no-new -- registered on creation, read through collect()
    new Gauge({
      name: 'logfire_peer_messages_total',
      help: 'Peer-to-peer messages, received (in) and sent (out)',
      labelNames: ['direction'] as const,
      registers: [registry],
      collect () {
        this.set({ direction: 'in' }, peers.counts.messagesIn)
        this.set({ direction: 'out' }, peers.counts.messagesOut)
      }
    })
    // eslint-disable-next-line no-new -- registered on creation, read through collect()
    new Gauge({
      name: 'logfire_peer_refused_total',
      help: 'Peer messages and connections refused, by reason: malformed, unknown-type, bad-block, too-large, flood, connection',
      labelNames: ['reason'] as const,
      registers: [registry],
      collect () {
        for (const [reason, count] of Object.entries(peers.counts.refused)) this.set({ reason }, count)
      }
    })
  }
  if (listeners !== undefined && listeners.enabled.length > 0) streamMetrics(registry, listeners)
  // eslint-disable-next-line no-new -- registered on creation, read through collect()
  new Gauge({
    name: 'logfire_held_connections',
    help: 'Connections held open by faults right now (LOGFIRE_MAX_HELD_CONNECTIONS bounds them)',
    registers: [registry],
    collect () { this.set(held.size) }
  })
  let overflowsCounted = 0
  // eslint-disable-next-line no-new -- registered on creation, read through collect()
  new Counter({
    name: 'logfire_fault_overflows_total',
    help: 'Faults answered 503 LOGFIRE_FAULT_OVERFLOW instead, because LOGFIRE_MAX_HELD_CONNECTIONS were held',
    registers: [registry],
    collect () {
      this.inc(held.overflows - overflowsCounted)
      overflowsCounted = held.overflows
    }
  })
  if (redis !== undefined) {
    let lostCounted = 0
    // eslint-disable-next-line no-new -- registered on creation, read through collect()
    new Counter({
      name: 'logfire_redis_lost_blocks_total',
      help: 'Blocks this replica held that Redis no longer had, over every fire: acknowledged writes lost in a failover (LOGFIRE_REDIS_WAIT=0)',
      registers: [registry],
      collect () {
        this.inc(redis.lostBlocks - lostCounted)
        lostCounted = redis.lostBlocks
      }
    })
  }
  // The canary runs, the most recently active few: a label per run, bounded.
  for (const [name, help, value] of CANARY_SERIES) {
    // eslint-disable-next-line no-new -- registered on creation, read through collect()
    new Gauge({
      name,
      help,
      labelNames: ['run'] as const,
      registers: [registry],
      collect () {
        this.reset()
        for (const report of scorecard.reports().slice(-MAX_RUN_SERIES)) this.set({ run: report.run }, value(report))
      }
    })
  }
  const gdpr = new Counter({ name: 'logfire_gdpr_refusals_total', help: 'Requests refused with 451 for mentioning the EU, the UK or Europe', registers: [registry] })
  // eslint-disable-next-line no-new -- registered on creation, read through collect()
  new Gauge({
    name: 'logfire_chain_length',
    help: 'Blocks in the chain, genesis included',
    registers: [registry],
    collect () { this.set(chain.length) }
  })

  const alerts = new Counter({
    name: 'logfire_alerts_total',
    help: 'Alerts raised, by rule; a digest counts once',
    labelNames: ['rule'] as const,
    registers: [registry]
  })
  const resolves = new Counter({
    name: 'logfire_alert_resolves_total',
    help: 'Flatline alerts resolved, by rule',
    labelNames: ['rule'] as const,
    registers: [registry]
  })

  const outputAttempts = new Counter({ name: 'logfire_alert_output_attempts_total', help: 'Delivery attempts by alert output, retries included', labelNames: ['output'] as const, registers: [registry] })
  const outputFailures = new Counter({ name: 'logfire_alert_output_failures_total', help: 'Alerts an output failed to deliver after its retries', labelNames: ['output'] as const, registers: [registry] })
  const outputSeconds = new Histogram({
    name: 'logfire_alert_output_seconds',
    help: 'Time to deliver an alert, retries included, by output',
    labelNames: ['output'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
    registers: [registry]
  })
  const balloonSeconds = new Counter({ name: 'logfire_balloon_seconds_total', help: 'Seconds each balloon plug has been switched on', labelNames: ['balloon'] as const, registers: [registry] })

  // Each replica counts what it did; another replica's events are its own to count.
  const unsubscribe = chain.subscribe((event, origin) => {
    if (origin === 'remote') return
    switch (event.type) {
      case 'append': appended.inc(event.count); break
      case 'burn': burns.inc({ reason: event.reason }); break
      case 'fire': fires.inc(); break
      case 'fault': faults.inc({ fault: event.fault.name === 'status' ? 'status' : faultLabel(event.fault) }); break
      case 'gdpr': gdpr.inc(); break
      case 'alert': (event.alert.resolves === undefined ? alerts : resolves).inc({ rule: event.alert.rule }); break
      case 'output':
        outputAttempts.inc({ output: event.output }, event.attempts)
        if (!event.ok) outputFailures.inc({ output: event.output })
        outputSeconds.observe({ output: event.output }, event.seconds)
        break
      case 'balloon':
        if (!event.inflating) balloonSeconds.inc({ balloon: event.balloon }, event.seconds)
        break
    }
  })

  return {
    registry,
    observeRequest (method: string, route: string, statusCode: number, seconds: number): void {
      tally.observe(method, route, statusCode, seconds)
    },
    close: unsubscribe
  }
}

export type Metrics = ReturnType<typeof createMetrics>

/** A metric whose series are built when the registry is scraped: prom-client prints whatever get() returns. */
function registerSeries (registry: Registry, name: string, help: string, type: 'counter' | 'histogram', values: () => SeriesValue[]): void {
  const metric = { name, help, type, aggregator: 'sum' as const }
  registry.registerMetric({ ...metric, get: async () => ({ ...metric, values: values() }), reset: () => {} } as unknown as Metric)
}

const MAX_RUN_SERIES = 10
const CANARY_SERIES: Array<[string, string, (report: RunReport) => number]> = [
  ['logfire_canary_delivered_lines', 'Canary lines stored, copies included, by run (the 10 most recently active)', (report) => report.delivered],
  ['logfire_canary_unique_lines', 'Distinct canary lines stored, by run', (report) => report.unique],
  ['logfire_canary_duplicate_lines', 'Extra copies of canary lines, by run', (report) => report.duplicates],
  ['logfire_canary_missing_lines', 'Canary lines missing below the highest delivered, by run', (report) => report.missing],
  ['logfire_canary_burned_after_delivery_lines', 'Canary lines stored and then burned with the chain, by run', (report) => report.burnedAfterDelivery]
]

/** The stream listeners' counts, read at each scrape: nothing is counted per message for them. */
function streamMetrics (registry: Registry, listeners: StreamListeners): void {
  /* eslint-disable no-new -- registered on creation, read through collect() */
  new Gauge({
    name: 'logfire_stream_connections',
    help: 'Stream connections open right now, by protocol',
    labelNames: ['protocol'] as const,
    registers: [registry],
    collect () {
      this.reset()
      for (const { protocol } of listeners.enabled) if (!protocol.endsWith('-udp')) this.set({ protocol }, 0)
      for (const connection of listeners.live) this.inc({ protocol: connection.report.protocol })
    }
  })
  new Gauge({
    name: 'logfire_stream_messages_total',
    help: 'Stream messages, by protocol and outcome: stored, lp0, gdpr, burn (dropped by logfire)',
    labelNames: ['protocol', 'outcome'] as const,
    registers: [registry],
    collect () {
      for (const [key, count] of listeners.totals) {
        const [protocol = '', outcome = ''] = key.split(' ')
        this.set({ protocol, outcome }, count)
      }
    }
  })
  new Gauge({
    name: 'logfire_stream_refused_total',
    help: 'Stream connections closed at once for LOGFIRE_MAX_STREAM_CONNECTIONS (connection), and datagrams over LOGFIRE_MAX_ENTRY_BYTES (datagram)',
    labelNames: ['what'] as const,
    registers: [registry],
    collect () {
      this.set({ what: 'connection' }, listeners.refused.connections)
      this.set({ what: 'datagram' }, listeners.refused.oversizedDatagrams)
    }
  })
  /* eslint-enable no-new */
}
