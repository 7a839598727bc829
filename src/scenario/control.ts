import type { Chain } from '../chain/chain.js'
import { scenarioSchema, type Scenario } from './document.js'
import { ScenarioRunner, settingsTouched, type Decision, type ScenarioHost, type ScenarioPosition, type ScenarioMessage, type ScenarioRequest, type ScenarioView } from './runner.js'

/**
 * The scenario running in this app, if any: started, replaced, stepped and
 * stopped here, or followed from another replica.
 */
export class Scenarios {
  #current: ScenarioRunner | undefined

  constructor (private readonly host: ScenarioHost) {}

  /** Starts `scenario` on every replica, stopping (and restoring the settings of) the one running. */
  async start (scenario: Scenario): Promise<ScenarioView> {
    const run = await this.host.count('scenario:runs', 1)
    // The settings as the running one's end will leave them: its own steps' changes are not the new one's to restore.
    const before = this.#current?.ended === false ? { ...this.host.settings, ...this.#current.saved } : this.host.settings
    const runner = new ScenarioRunner(scenario, this.host, run, settingsTouched(scenario, before))
    this.stop()
    this.#current = runner
    runner.start()
    return runner.view()
  }

  /** Where another replica says the scenario is: a new run is joined, the running one caught up with. */
  follow (position: ScenarioPosition): void {
    const current = this.#current
    if (current !== undefined && current.run === position.run) {
      current.follow(position)
      return
    }
    // An older run's news, or the end of one never joined: nothing to do.
    if (position.index < 0 || (current !== undefined && !current.ended && current.run > position.run)) return
    const runner = new ScenarioRunner(position.scenario, this.host, position.run, position.saved)
    this.#current = runner
    runner.follow(position)
  }

  stop (): void {
    this.#current?.stop()
    this.#current = undefined
  }

  /** This replica is closing: the scenario runs on elsewhere. */
  leave (): void {
    this.#current?.leave()
    this.#current = undefined
  }

  next (): void {
    this.#current?.next()
  }

  /** As this replica last saw it: for the page, which asks often. */
  view (): ScenarioView | undefined {
    return this.#current?.view()
  }

  /** With the current step's requests counted on every replica: for GET /admin/scenario. */
  async status (): Promise<ScenarioView | undefined> {
    const current = this.#current
    return current?.view(await current.taken())
  }

  decide (request: ScenarioRequest): Decision | Promise<Decision> {
    return this.#current?.decide(request)
  }

  decideMessage (message: ScenarioMessage): ReturnType<ScenarioRunner['decideMessage']> {
    return this.#current?.decideMessage(message)
  }
}

/**
 * Keeps `scenarios` running what every replica runs: the one saved when this
 * replica starts, and each step another replica announces.
 */
export async function joinScenario (chain: Chain, scenarios: Scenarios): Promise<void> {
  const saved = await chain.shared.load('scenario') as ScenarioPosition | null | undefined
  if (saved !== null && saved !== undefined && scenarioSchema.safeParse(saved.scenario).success) scenarios.follow(saved)
  chain.subscribe((event, origin) => {
    if (event.type === 'scenario' && origin === 'remote') scenarios.follow(event.position)
  })
}
