import type { ChaosRoll } from '../fire/chaos.js'
import type { Scenario } from './document.js'
import { ScenarioRunner, type ScenarioHost, type ScenarioRequest, type ScenarioView } from './runner.js'

/** The scenario running in this app, if any: started, replaced, stepped and stopped. */
export class Scenarios {
  #current: ScenarioRunner | undefined

  constructor (private readonly host: ScenarioHost) {}

  /** Starts `scenario`, stopping (and restoring the settings of) the one running. */
  start (scenario: Scenario): ScenarioView {
    const runner = new ScenarioRunner(scenario, this.host)
    this.stop()
    this.#current = runner
    runner.start()
    return runner.view()
  }

  stop (): void {
    this.#current?.stop()
    this.#current = undefined
  }

  next (): ScenarioView | undefined {
    this.#current?.next()
    return this.view()
  }

  view (): ScenarioView | undefined {
    return this.#current?.view()
  }

  decide (request: ScenarioRequest): ChaosRoll | undefined {
    return this.#current?.decide(request)
  }
}
