import { Balloon } from '../balloon/balloon.js'
import { plugDriver } from '../balloon/drivers.js'
import type { Chain } from '../chain/chain.js'
import { AlertEngine, type Alert } from './engine.js'
import type { Alerting } from './load.js'
import { chaosOutput, type ChaosHost } from './outputs/chaos.js'
import type { DeliveryOptions } from './outputs/delivery.js'
import { sender } from './outputs/senders.js'

declare module '../chain/events.js' {
  interface ChainEventMap {
    alert: { alert: Alert }
    /** How one alert's delivery to one output went. */
    output: { output: string, ok: boolean, attempts: number, seconds: number }
  }
}

// What GET /alerts shows.
const RECENT_ALERTS = 200

export interface AlertingOptions extends Alerting {
  chain: Chain
  clock: () => number
  log: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => void
  /** Memory of entries waiting for the rules; past it they are dropped and counted. */
  maxQueueBytes: number
  /** For tests: faster retries. */
  delivery?: DeliveryOptions
  /** For tests: how a balloon waits out its pulse. */
  balloonWait?: (ms: number) => Promise<void>
  /** What chaos outputs act on. */
  chaos: Pick<ChaosHost, 'startScenario' | 'burn'>
}

export interface AlertingHandle {
  engine: AlertEngine
  balloons: readonly Balloon[]
  /** How many rules run. */
  rules: number
  /** The latest alerts of every replica, newest first. */
  recent: readonly Alert[]
  stop: () => void
}

/**
 * Turns alerting on: the rules run over every entry this replica appends
 * (each stored entry is evaluated once, by the replica that stored it), and
 * each alert goes to its rule's outputs and onto the chain's timeline.
 * Slow or failing outputs delay nothing else, and only an output's name and
 * outcome are logged, never its URL or secret.
 */
export function startAlerting (options: AlertingOptions): AlertingHandle {
  const { chain, clock, log } = options
  const outputs: Record<string, (alert: Alert) => void> = {
    log: (alert) => {
      const fields = { alert: { id: alert.id, rule: alert.rule, severity: alert.severity, count: alert.count, block: alert.block, group: alert.group, resolves: alert.resolves } }
      if (alert.resolves === undefined) log('warn', fields, `alert: ${alert.description}`)
      else log('info', fields, `alert resolved: ${alert.description}`)
    }
  }
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
        log,
        onInflate: (inflating, seconds) => chain.publish({ type: 'balloon', balloon: name, inflating, seconds }),
        claim: (ms) => chain.shared.lease(`balloon:${name}`, ms),
        ...(options.balloonWait === undefined ? {} : { wait: options.balloonWait })
      })
      balloons.push(balloon)
      // A resolve switches the plug off: the condition that inflated it is over.
      outputs[name] = (alert) => { (alert.resolves === undefined ? balloon.pulse() : balloon.off()).catch(() => {}) }
      continue
    }
    if (config.type === 'chaos') {
      outputs[name] = chaosOutput(name, config, { ...options.chaos, clock, log, publish: (event) => { chain.publish(event) } })
      continue
    }
    const send = sender(config, options.delivery)
    outputs[name] = (alert) => {
      const began = performance.now()
      send(alert).then((delivery) => {
        chain.publish({ type: 'output', output: name, ok: delivery.ok, attempts: delivery.attempts, seconds: (performance.now() - began) / 1000 })
        if (!delivery.ok) log('error', { output: name, alert: alert.id, ...delivery }, 'alert output failed')
      }, (error: unknown) => log('error', { output: name, err: error }, 'alert output failed'))
    }
  }
  const engine = new AlertEngine({
    rules: options.rules,
    clock,
    // Windows live with the chain: with replicas, every replica's matches count.
    windows: chain.windows,
    maxQueueBytes: options.maxQueueBytes,
    // On the timeline first: what an output does (a chaos output's scenario) comes after it.
    deliver: (alert, rule) => {
      chain.publish({ type: 'alert', alert })
      for (const name of rule.outputs) outputs[name]?.(alert)
    }
  })
  // Another replica's appends are that replica's to evaluate; its alerts
  // are shown here all the same.
  const recent: Alert[] = []
  const stop = chain.subscribe((event, origin) => {
    if (event.type === 'append' && origin === 'local') engine.enqueue(event.entries, event.first, event.epoch)
    if (event.type === 'alert') {
      recent.unshift(event.alert)
      if (recent.length > RECENT_ALERTS) recent.pop()
    }
  })
  return {
    engine,
    balloons,
    rules: options.rules.length,
    recent,
    stop: () => {
      stop()
      engine.stop()
    }
  }
}
