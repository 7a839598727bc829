import { changeSharedSettings, settingsHeader, shareSettings, type LiveSettings } from '../admin/settings.js'
import type { BurnReason } from '../chain/events.js'
import type { Chain } from '../chain/chain.js'
import { requestDraws, type Random } from '../fire/random.js'
import { joinScenario, Scenarios } from '../scenario/control.js'
import type { Decision, ScenarioMessage, ScenarioRequest } from '../scenario/runner.js'
import { startScorekeeping } from '../scorecard/keeping.js'
import { Scorecard } from '../scorecard/scorecard.js'
import type { ServiceFacts } from '../stage/describe.js'
import { Viewers } from '../stream/viewers.js'

export interface FireOptions {
  /** PUBLIC_FIRE for the instance's own fire; a random id for a created one. */
  id: string
  chain: Chain
  settings: LiveSettings
  /** Request N meets the same fate for the same seed. */
  seed: string
  clock: () => number
  maxCanaryRuns: number
  /** Event-stream viewers at once; past it a 503. */
  maxViewers: number
  /** The longest delay a scenario's forced fate may hold (LOGFIRE_MAX_FORCED_DELAY_MS), and a hang's length. */
  maxForcedDelayMs: number
  /** False for the cost ledger's build without the scorecard. */
  keepScore: boolean
  /** For work started in the background, whose failure is the operator's to read. */
  logFailure: (what: string) => (error: unknown) => void
}

/** The id of the fire every instance has: a request with no fire's token goes there. */
export const PUBLIC_FIRE = 'public'

/**
 * One fire: a chain and everything that burns with it. Its chaos settings,
 * seed and request numbering (so replay holds per fire), its scenario, its
 * scorecard and its viewers. Every route and hook reads the fire its request
 * carries (`request.fire`), never one of its own.
 */
export class Fire {
  readonly id: string
  readonly maxViewers: number
  readonly chain: Chain
  readonly settings: LiveSettings
  readonly seed: string
  readonly clock: () => number
  /** The draws for request N: the same for the same seed and N, on every replica. */
  readonly draws: (request: number) => Random
  /** The draws for the inside of request N's batch (items refused one by one, HEC acks). */
  readonly batchDraws: (request: number) => Random
  readonly scorecard: Scorecard
  readonly #options: FireOptions
  #scenarios: Scenarios | undefined
  readonly #stopScorekeeping: () => void
  #viewers: Viewers | undefined
  // X-Logfire-Settings, built again only after the settings change (here or
  // on another replica): building it on every request cost 0.5% of a POST.
  #shownSettings: string | undefined

  private constructor (options: FireOptions) {
    const { chain, settings, clock } = options
    this.id = options.id
    this.maxViewers = options.maxViewers
    this.chain = chain
    this.settings = settings
    this.seed = options.seed
    this.clock = clock
    this.draws = requestDraws(options.seed)
    this.batchDraws = requestDraws(`${options.seed}/batches`)
    this.scorecard = new Scorecard({ maxRuns: options.maxCanaryRuns })
    this.#stopScorekeeping = options.keepScore ? startScorekeeping(chain, clock, this.scorecard).stop : () => {}
    // Another replica's change arrives as an event; this one's goes through changeSettings.
    if (chain.replicated) chain.subscribe((event) => { if (event.type === 'settings') this.#shownSettings = undefined })
    this.#options = options
  }

  /** Its scenario's controls: made when first asked for, as most fires never run one. */
  get scenarios (): Scenarios {
    this.#scenarios ??= this.#makeScenarios()
    return this.#scenarios
  }

  /** A running scenario's fate for a request, if one runs; undefined leaves it to the roll. */
  decide (request: ScenarioRequest): Decision | Promise<Decision> {
    return this.#scenarios?.decide(request)
  }

  /** A running scenario's fate for a stream message, if one runs. */
  decideMessage (message: ScenarioMessage): ReturnType<Scenarios['decideMessage']> {
    return this.#scenarios?.decideMessage(message)
  }

  #makeScenarios (): Scenarios {
    const { chain, settings, clock } = this
    const { logFailure } = this.#options
    return new Scenarios({
      clock,
      settings,
      changeSettings: (patch) => { this.changeSettings(patch).catch(logFailure('a scenario step could not change the settings')) },
      burn: () => { Promise.resolve(chain.burn('scenario')).catch(logFailure('a scenario step could not burn the chain')) },
      publish: (event) => { chain.publish(event) },
      count: (name, by) => chain.shared.count(name, by),
      save: (position) => { chain.shared.save('scenario', position ?? null).catch(logFailure('the scenario\'s step could not be saved for other replicas')) },
      limits: { maxForcedDelayMs: this.#options.maxForcedDelayMs, hangMs: settings.hangMs }
    })
  }

  /** A fire ready to serve: its settings and scenario are those its replicas already share. */
  static async kindle (options: FireOptions): Promise<Fire> {
    const fire = new Fire(options)
    // Every replica runs with the same settings: the first to start sets them.
    await shareSettings(fire.chain, fire.settings)
    // Replicas run the same scenario: one that starts later joins it where it is.
    if (fire.chain.replicated) await joinScenario(fire.chain, fire.scenarios)
    return fire
  }

  /** A change from PATCH /admin/chaos or a scenario's step, on every replica. */
  async changeSettings (patch: Partial<LiveSettings>): Promise<void> {
    await changeSharedSettings(this.chain, this.settings, patch)
    this.#shownSettings = undefined
  }

  burn (reason: BurnReason): number | Promise<number> {
    return this.chain.burn(reason)
  }

  /** The X-Logfire-Settings header's value. */
  settingsHeader (): string {
    this.#shownSettings ??= settingsHeader(this.settings)
    return this.#shownSettings
  }

  /** The running scenario's current step, for GET / and the page. */
  runningScenario (): ServiceFacts['scenario'] {
    const view = this.#scenarios?.view()
    return view === undefined || view.ended ? undefined : { name: view.name, step: view.step, of: view.of, description: view.description }
  }

  /** Who watches this fire's event stream: made when the first viewer comes. */
  get viewers (): Viewers {
    this.#viewers ??= new Viewers()
    return this.#viewers
  }

  get isPublic (): boolean { return this.id === PUBLIC_FIRE }

  /** Whether anyone watches its event stream now. */
  get watched (): boolean { return (this.#viewers?.count ?? 0) > 0 }

  /** Open event streams end at once, so closing is not held up by viewers. */
  closeViewers (): void { this.#viewers?.closeAll() }

  /** This replica lets go of the fire: its scenario runs on elsewhere, its viewers are closed. */
  async close (): Promise<void> {
    this.closeViewers()
    this.#stopScorekeeping()
    this.#scenarios?.leave()
    await this.chain.close()
  }
}
