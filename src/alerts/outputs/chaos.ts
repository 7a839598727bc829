import type { ChainEventMap } from '../../chain/events.js'
import type { Scenario } from '../../scenario/document.js'
import type { Alert } from '../engine.js'
import type { ChaosConfig } from './config.js'

declare module '../../chain/events.js' {
  interface ChainEventMap {
    /** An alert's chaos output acted on logfire: started a scenario, or burned the chain. */
    chaos: { output: string, rule: string, alert: number, action: 'scenario' | 'burn', scenario?: string }
  }
}

/** What a chaos output may do to the logfire it runs in. */
export interface ChaosHost {
  startScenario: (scenario: Scenario) => void
  burn: () => void
  clock: () => number
  log: (level: 'info' | 'warn', fields: Record<string, unknown>, message: string) => void
  publish: (event: { type: 'chaos' } & ChainEventMap['chaos']) => void
}

/**
 * A chaos output: when its rule fires, logfire acts on itself, as the talk
 * imagined security alerts setting off chaos monkeys. At most once per
 * cooldown; every action is logged and published, and a resolve does nothing.
 */
export function chaosOutput (name: string, config: ChaosConfig, host: ChaosHost): (alert: Alert) => void {
  let coolUntil = -Infinity
  const scenario = 'scenario' in config ? { ...config.scenario, name: config.scenario.name ?? name } : undefined
  return (alert) => {
    if (alert.resolves !== undefined) return
    const now = host.clock()
    const fields = { output: name, rule: alert.rule, alert: alert.id }
    if (now < coolUntil) {
      host.log('info', { ...fields, seconds: (coolUntil - now) / 1000 }, 'chaos output cooling down: nothing done')
      return
    }
    coolUntil = now + config.cooldownSeconds * 1000
    if (scenario === undefined) {
      host.log('warn', fields, 'chaos output: burning the chain')
      host.publish({ type: 'chaos', ...fields, action: 'burn' })
      host.burn()
      return
    }
    host.log('warn', { ...fields, scenario: scenario.name }, 'chaos output: starting a scenario')
    host.publish({ type: 'chaos', ...fields, action: 'scenario', scenario: scenario.name })
    host.startScenario(scenario)
  }
}
