import { settingsView, type LiveSettings } from '../admin/settings.js'

export interface ServiceFacts {
  version: string
  seed: string
  settings: LiveSettings
  maxBlocks: number
  maxChainBytes: number
  rateLimit: number
  admin: boolean
  chain: { length: number, head: string }
  /** The running scenario's current step, if one runs. */
  scenario: { name: string, step: number, of: number, description: string } | undefined
  /** Every documented route, from the routes themselves. */
  endpoints: readonly Endpoint[]
  /** LOGFIRE_FIRES, and the fire described. */
  fires: 'single' | 'open'
  fire: string
  /** The stream listeners that are on, and their ports. */
  listeners: ReadonlyArray<{ protocol: string, port: number }>
}

export interface Endpoint { method: string, path: string, description: string }

/** GET / for curl: what this is, where things are and how hot the fire is right now. */
export function describeService (facts: ServiceFacts) {
  return {
    name: 'logfire.io',
    version: facts.version,
    tagline: 'You send us your logs, we set them on fire, so that you will then look at them.',
    endpoints: facts.endpoints,
    listeners: facts.listeners,
    chaos: {
      ...settingsView(facts.settings),
      seed: facts.seed,
      maxBlocks: facts.maxBlocks,
      maxChainBytes: facts.maxChainBytes,
      rateLimit: facts.rateLimit
    },
    admin: facts.admin,
    chain: facts.chain,
    scenario: facts.scenario ?? null,
    fires: facts.fires,
    fire: facts.fire
  }
}
