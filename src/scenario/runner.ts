import type { LiveSettings } from '../admin/settings.js'
import { parseChaosHeader, type ChaosRoll, type ForcedFaultLimits } from '../fire/chaos.js'
import { ScenarioError, type Scenario, type Step, type StepSettings } from './document.js'

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** A scenario moved to a step (1-based), or ended (`step` 0). */
    scenario: { name: string, step: number, of: number, description: string }
  }
}

/** What a scenario needs from logfire: the clock, the settings, the burn and the timeline. */
export interface ScenarioHost {
  clock: () => number
  settings: LiveSettings
  changeSettings: (patch: Partial<LiveSettings>) => void
  burn: () => void
  publish: (event: { type: 'scenario', name: string, step: number, of: number, description: string }) => void
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
  remaining: { requests: number } | { seconds: number } | undefined
  /** Requests the scenario has decided, all steps together. */
  matched: number
  ended: boolean
}

/**
 * A running scenario. It decides a request's fate before the random roll
 * (which is still drawn, so later fates do not shift); a request carrying
 * X-Logfire-Chaos is neither decided nor counted. Settings a step changes
 * last for the step; when the scenario ends they are what they were.
 */
export class ScenarioRunner {
  readonly #steps: Array<{ step: Step, roll: ChaosRoll | undefined }>
  readonly #saved: Partial<LiveSettings>
  #index = -1
  #taken = 0
  #matched = 0
  #startedAt = 0
  #timer: NodeJS.Timeout | undefined
  #ended = false

  constructor (private readonly scenario: Scenario, private readonly host: ScenarioHost) {
    this.#steps = scenario.steps.map((step, i) => {
      if (step.chaos === undefined) return { step, roll: undefined }
      const roll = parseChaosHeader(step.chaos, host.limits)
      if ('problem' in roll) throw new ScenarioError(`step ${i + 1}: chaos: ${roll.directive}: ${roll.problem}`)
      return { step, roll }
    })
    // Every setting a step touches, as it is now: what the end restores.
    const touched = new Set(scenario.steps.flatMap((step) => Object.keys(step.set ?? {}).map((key) => key === 'wipeRate' ? 'burnRate' : key)))
    this.#saved = Object.fromEntries([...touched].map((key) => [key, structuredClone(host.settings[key as keyof LiveSettings])])) as Partial<LiveSettings>
  }

  get name (): string { return this.scenario.name ?? 'scenario' }

  start (): void { this.#enter(0) }

  /** The fate a scenario gives this request, or undefined to leave it to the roll. */
  decide (request: ScenarioRequest): ChaosRoll | undefined {
    if (this.#ended) return undefined
    const current = this.#steps[this.#index]!
    if (current.step.requests === undefined) {
      this.#matched++
      return current.roll
    }
    if (!matches(current.step, request)) return undefined
    this.#matched++
    if (++this.#taken >= current.step.requests) this.#advance()
    return current.roll
  }

  /** The next step, by hand: POST /admin/scenario/next, or a key on stage. */
  next (): void {
    if (!this.#ended) this.#advance()
  }

  /** Ends it now, settings restored. */
  stop (): void {
    if (this.#ended) return
    this.#ended = true
    clearTimeout(this.#timer)
    this.#restore()
    this.host.publish({ type: 'scenario', name: this.name, step: 0, of: this.#steps.length, description: 'ended' })
  }

  view (): ScenarioView {
    const current = this.#steps[this.#index]?.step
    let remaining: ScenarioView['remaining']
    if (!this.#ended && current?.requests !== undefined) remaining = { requests: current.requests - this.#taken }
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

  #advance (): void {
    const next = this.#index + 1
    if (next < this.#steps.length) this.#enter(next)
    else if (this.scenario.loop === true) this.#enter(0)
    else this.stop()
  }

  #enter (index: number): void {
    clearTimeout(this.#timer)
    this.#index = index
    this.#taken = 0
    this.#startedAt = this.host.clock()
    const { step } = this.#steps[index]!
    // Each step's settings on top of the scenario's first ones: a step never inherits the last one's.
    const { wipeRate, ...set } = step.set ?? {} as StepSettings
    this.host.changeSettings({ ...this.#saved, ...set, ...(wipeRate === undefined || set.burnRate !== undefined ? {} : { burnRate: wipeRate }) })
    if (step.burn === true) this.host.burn()
    this.host.publish({ type: 'scenario', name: this.name, step: index + 1, of: this.#steps.length, description: describeStep(step) })
    if (step.seconds !== undefined) {
      this.#timer = setTimeout(() => { this.#advance() }, step.seconds * 1000)
      this.#timer.unref()
    }
  }

  #restore (): void {
    if (Object.keys(this.#saved).length > 0) this.host.changeSettings(this.#saved)
  }
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
    : step.seconds !== undefined ? `${step.seconds} s` : 'until the next step'
  const what = [
    step.chaos === undefined ? undefined : step.chaos,
    step.set === undefined ? undefined : Object.entries(step.set).map(([key, value]) => `${key}=${String(value)}`).join(' '),
    step.burn === true ? 'burn now' : undefined
  ].filter((part) => part !== undefined && part !== '')
  return `${what.length === 0 ? 'calm' : what.join(', ')}: ${span}`
}
