import type { LiveSettings } from '../admin/settings.js'
import type { ChainEventMap } from '../chain/events.js'
import { parseChaosHeader, type ChaosRoll, type ForcedFaultLimits } from '../fire/chaos.js'
import { parseStreamChaos, type StreamFate, type StreamProtocol } from '../fire/stream-faults.js'
import { ScenarioError, type Scenario, type Step, type StepSettings } from './document.js'

/** Where a running scenario is: what every replica needs to run it too. */
export interface ScenarioPosition {
  /** Which start of a scenario this is, counted across replicas. */
  run: number
  scenario: Scenario
  /** The settings as they were before it: what its end restores. */
  saved: Partial<LiveSettings>
  /** 0-based; -1 once ended. */
  index: number
  /** How many times a looping scenario has gone round. */
  cycle: number
}

declare module '../chain/events.js' {
  interface ChainEventMap {
    /**
     * A scenario moved to a step (1-based), or ended (`step` 0). `position`
     * is for the other replicas, which follow it; viewers get the rest.
     */
    scenario: { name: string, step: number, of: number, description: string, position: ScenarioPosition }
  }
}

/** What a scenario needs from logfire: the clock, the settings, the burn, the timeline, and counters every replica shares. */
export interface ScenarioHost {
  clock: () => number
  settings: LiveSettings
  changeSettings: (patch: Partial<LiveSettings>) => void
  burn: () => void
  publish: (event: { type: 'scenario' } & ChainEventMap['scenario']) => void
  /** Adds `by` to a counter shared by every replica; in memory, answered at once. */
  count: (name: string, by: number) => number | Promise<number>
  /** Where the scenario is now, for a replica that starts later; undefined once none runs. */
  save: (position: ScenarioPosition | undefined) => void
  limits: ForcedFaultLimits
}

/** The part of a request a step's match reads. */
export interface ScenarioRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
}

export interface ScenarioView {
  name: string
  loop: boolean
  /** 1-based; 0 once ended. */
  step: number
  of: number
  description: string
  /** Requests left in a "requests" step, seconds left in a "seconds" step; undefined while paused. */
  remaining: { requests: number } | { messages: number } | { seconds: number } | undefined
  /** Requests this replica has decided, all steps together. */
  matched: number
  ended: boolean
}

export type Decision = ChaosRoll | undefined

/** The part of a stream message a "messages" step's match reads. */
export interface ScenarioMessage { protocol: StreamProtocol }

/**
 * A running scenario. It decides a request's fate before the random roll
 * (which is still drawn, so later fates do not shift); a request carrying
 * X-Logfire-Chaos is neither decided nor counted. Settings a step changes
 * last for the step; when the scenario ends they are what they were.
 *
 * With replicas, every one runs the scenario and counts a step's requests
 * together, in a shared counter: N requests in all, whichever replica they
 * reach. The replica that takes a step's last request (or whose timer claims
 * the end of a "seconds" step, or that is stepped by hand) moves everyone on:
 * it changes the settings, burns, publishes the step. The others follow it.
 */
export class ScenarioRunner {
  readonly #steps: Array<{ step: Step, roll: ChaosRoll | undefined, streamRoll: StreamFate | undefined }>
  readonly #saved: Partial<LiveSettings>
  readonly #run: number
  #index = -1
  #cycle = 0
  // The highest count of the current step this replica has seen.
  #taken = 0
  #matched = 0
  #startedAt = 0
  #timer: NodeJS.Timeout | undefined
  #ended = false

  /** A new run, or with `saved`, one another replica started. */
  constructor (private readonly scenario: Scenario, private readonly host: ScenarioHost, run: number, saved?: Partial<LiveSettings>) {
    this.#run = run
    this.#steps = scenario.steps.map((step, i) => {
      if (step.chaos === undefined) return { step, roll: undefined, streamRoll: undefined }
      // Each side meets what it knows of a step of time's directives (document.ts checked the rest).
      const roll = step.messages !== undefined ? undefined : parseChaosHeader(step.chaos, host.limits)
      const streamRoll = step.requests !== undefined ? undefined : parseStreamChaos(step.chaos, host.limits)
      const problem = [roll, streamRoll].find((parsed) => parsed !== undefined && 'problem' in parsed) as { directive: string, problem: string } | undefined
      if (problem !== undefined && (step.requests !== undefined || step.messages !== undefined || (roll !== undefined && 'problem' in roll && streamRoll !== undefined && 'problem' in streamRoll))) {
        throw new ScenarioError(`step ${i + 1}: chaos: ${problem.directive}: ${problem.problem}`)
      }
      return {
        step,
        roll: roll === undefined || 'problem' in roll ? undefined : roll,
        streamRoll: streamRoll === undefined || 'problem' in streamRoll ? undefined : streamRoll
      }
    })
    this.#saved = saved ?? settingsTouched(scenario, host.settings)
  }

  get name (): string { return this.scenario.name ?? 'scenario' }
  /** The settings its end restores. */
  get saved (): Partial<LiveSettings> { return this.#saved }
  get run (): number { return this.#run }
  get ended (): boolean { return this.#ended }

  start (): void { this.#enter(0, 0, true) }

  /** Moves to where another replica says the scenario is, if that is further on. */
  follow (position: ScenarioPosition): void {
    if (this.#ended || position.run !== this.#run) return
    if (position.index < 0) {
      this.#end(false)
      return
    }
    if (position.cycle > this.#cycle || (position.cycle === this.#cycle && position.index > this.#index)) this.#enter(position.index, position.cycle, false)
  }

  /** The fate a scenario gives this request, or undefined to leave it to the roll. */
  decide (request: ScenarioRequest): Decision | Promise<Decision> {
    return this.#decide('requests', request, (step) => matches(step, request), () => this.decide(request))
  }

  /** The fate a scenario gives this stream message, or undefined to leave it to the roll. */
  decideMessage (message: ScenarioMessage): StreamFate | undefined | Promise<StreamFate | undefined> {
    return this.#decide('messages', message, (step) => step.match?.protocol === undefined || step.match.protocol === message.protocol, () => this.decideMessage(message))
  }

  /**
   * A request's or a stream message's fate: a step that counts its kind
   * counts it when it matches; a step of time decides every one; a step
   * that counts the other kind leaves it to the roll.
   */
  #decide<K extends 'requests' | 'messages'> (kind: K, _what: unknown, match: (step: Step) => boolean, again: () => Fated<K> | Promise<Fated<K>>): Fated<K> | Promise<Fated<K>> {
    if (this.#ended) return undefined
    const index = this.#index
    const cycle = this.#cycle
    const current = this.#steps[index]!
    const fate = (kind === 'requests' ? current.roll : current.streamRoll) as Fated<K>
    const other = kind === 'requests' ? 'messages' : 'requests'
    if (current.step[other] !== undefined) return undefined
    if (current.step[kind] === undefined) {
      this.#matched++
      return fate
    }
    if (!match(current.step)) return undefined
    const counted = this.host.count(this.#counter(index, cycle), 1)
    return typeof counted === 'number'
      ? this.#counted(counted, index, cycle, kind, fate, again)
      : counted.then((count) => this.#counted(count, index, cycle, kind, fate, again))
  }

  #counted<K extends 'requests' | 'messages'> (count: number, index: number, cycle: number, kind: K, fate: Fated<K>, again: () => Fated<K> | Promise<Fated<K>>): Fated<K> | Promise<Fated<K>> {
    const { step } = this.#steps[index]!
    const limit = step[kind] as number
    const here = index === this.#index && cycle === this.#cycle && !this.#ended
    if (count <= limit) {
      this.#matched++
      if (here) this.#taken = Math.max(this.#taken, count)
      if (count === limit && here) this.#advance(true)
      return fate
    }
    // Requests on other replicas used the step up: this one is the next step's.
    if (here) this.#advance(false)
    return again()
  }

  /** The next step, by hand: POST /admin/scenario/next, or a key on stage. */
  next (): void {
    if (!this.#ended) this.#advance(true)
  }

  /** Ends it now, settings restored, on every replica. */
  stop (): void {
    this.#end(true)
  }

  /** Ends it here only: this replica is closing, and the others run on. */
  leave (): void {
    this.#end(false)
  }

  /** A step's requests so far on every replica; the replica's own count when the shared one cannot be read. */
  async taken (): Promise<number> {
    const step = this.#steps[this.#index]?.step
    if (this.#ended || (step?.requests ?? step?.messages) === undefined) return this.#taken
    return Math.max(this.#taken, await this.host.count(this.#counter(this.#index, this.#cycle), 0))
  }

  view (taken = this.#taken): ScenarioView {
    const current = this.#steps[this.#index]?.step
    let remaining: ScenarioView['remaining']
    if (!this.#ended && current?.requests !== undefined) remaining = { requests: Math.max(0, current.requests - taken) }
    if (!this.#ended && current?.messages !== undefined) remaining = { messages: Math.max(0, current.messages - taken) }
    if (!this.#ended && current?.seconds !== undefined) remaining = { seconds: Math.max(0, current.seconds - (this.host.clock() - this.#startedAt) / 1000) }
    return {
      name: this.name,
      loop: this.scenario.loop === true,
      step: this.#ended ? 0 : this.#index + 1,
      of: this.#steps.length,
      description: this.#ended || current === undefined ? 'ended' : describeStep(current),
      remaining,
      matched: this.#matched,
      ended: this.#ended
    }
  }

  #counter (index: number, cycle: number): string {
    return `scenario:${this.#run}:${cycle}:${index}`
  }

  /** `lead`: this replica moves everyone on; otherwise it only catches up with what another one did. */
  #advance (lead: boolean): void {
    const next = this.#index + 1
    if (next < this.#steps.length) this.#enter(next, this.#cycle, lead)
    else if (this.scenario.loop === true) this.#enter(0, this.#cycle + 1, lead)
    else this.#end(lead)
  }

  #enter (index: number, cycle: number, lead: boolean): void {
    clearTimeout(this.#timer)
    this.#index = index
    this.#cycle = cycle
    this.#taken = 0
    this.#startedAt = this.host.clock()
    const { step } = this.#steps[index]!
    if (lead) {
      // Each step's settings on top of the scenario's first ones: a step never inherits the last one's.
      const { wipeRate, ...set } = step.set ?? {} as StepSettings
      this.host.changeSettings({ ...this.#saved, ...set, ...(wipeRate === undefined || set.burnRate !== undefined ? {} : { burnRate: wipeRate }) })
      if (step.burn === true) this.host.burn()
      this.#announce(index + 1, describeStep(step))
    }
    if (step.seconds !== undefined) {
      this.#timer = setTimeout(() => { this.#timeUp(index, cycle) }, step.seconds * 1000)
      this.#timer.unref()
    }
  }

  // Every replica's timer runs out at about the same time: the first to
  // claim the step's end moves everyone on.
  #timeUp (index: number, cycle: number): void {
    const claimed = this.host.count(`${this.#counter(index, cycle)}:end`, 1)
    const move = (claims: number) => {
      if (index === this.#index && cycle === this.#cycle && !this.#ended) this.#advance(claims === 1)
    }
    if (typeof claimed === 'number') move(claimed)
    else claimed.then(move, () => { move(1) })
  }

  #end (lead: boolean): void {
    if (this.#ended) return
    this.#ended = true
    clearTimeout(this.#timer)
    if (!lead) return
    if (Object.keys(this.#saved).length > 0) this.host.changeSettings(this.#saved)
    this.#announce(0, 'ended')
  }

  #announce (step: number, description: string): void {
    const position: ScenarioPosition = { run: this.#run, scenario: this.scenario, saved: this.#saved, index: step - 1, cycle: this.#cycle }
    this.host.save(step === 0 ? undefined : position)
    this.host.publish({ type: 'scenario', name: this.name, step, of: this.#steps.length, description, position })
  }
}

type Fated<K extends 'requests' | 'messages'> = (K extends 'requests' ? ChaosRoll : StreamFate) | undefined

/** Every setting a scenario's steps touch, as they are in `settings`: what its end restores. */
export function settingsTouched (scenario: Scenario, settings: LiveSettings): Partial<LiveSettings> {
  const touched = new Set(scenario.steps.flatMap((step) => Object.keys(step.set ?? {}).map((key) => key === 'wipeRate' ? 'burnRate' : key)))
  return Object.fromEntries([...touched].map((key) => [key, structuredClone(settings[key as keyof LiveSettings])])) as Partial<LiveSettings>
}

function matches (step: Step, request: ScenarioRequest): boolean {
  const { match } = step
  if (match === undefined) return true
  if (match.method !== undefined && match.method.toUpperCase() !== request.method.toUpperCase()) return false
  if (match.route !== undefined) {
    const path = request.url.split('?')[0] as string
    if (match.route.endsWith('*') ? !path.startsWith(match.route.slice(0, -1)) : path !== match.route) return false
  }
  for (const [name, text] of Object.entries(match.headers ?? {})) {
    const value = request.headers[name.toLowerCase()]
    const joined = Array.isArray(value) ? value.join(', ') : value
    if (joined === undefined || !joined.toLowerCase().includes(text.toLowerCase())) return false
  }
  return true
}

/** A step in a few words, for the stage and the event stream. */
export function describeStep (step: Step): string {
  const span = step.requests !== undefined
    ? `${step.requests} request${step.requests === 1 ? '' : 's'}${step.match === undefined ? '' : ' that match'}`
    : step.messages !== undefined
      ? `${step.messages} ${step.match?.protocol ?? 'stream'} message${step.messages === 1 ? '' : 's'}`
      : step.seconds !== undefined ? `${step.seconds} s` : 'until the next step'
  const what = [
    step.chaos === undefined ? undefined : step.chaos,
    step.set === undefined ? undefined : Object.entries(step.set).map(([key, value]) => `${key}=${String(value)}`).join(' '),
    step.burn === true ? 'burn now' : undefined
  ].filter((part) => part !== undefined && part !== '')
  return `${what.length === 0 ? 'calm' : what.join(', ')}: ${span}`
}
