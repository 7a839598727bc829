import type { LiveSettings } from '../admin/settings.js'

export interface ServiceFacts {
  version: string
  seed: string
  settings: LiveSettings
  maxBlocks: number
  rateLimit: number
  chaosOverride: boolean
  admin: boolean
  chain: { length: number, head: string }
}

const ENDPOINTS = [
  ['POST', '/logs', 'append log lines: text, JSON, NDJSON, gzip'],
  ['GET', '/logs', 'the whole chain, genesis first'],
  ['GET', '/logs/:index', 'one block'],
  ['GET', '/logs/verify', 'check every link and hash'],
  ['GET', '/logs/stream', 'Server-Sent Events: block, burn, fire, gdpr'],
  ['DELETE', '/logs', 'burn the chain (admin token)'],
  ['GET', '/admin/chaos', 'the live chaos settings (admin token)'],
  ['PATCH', '/admin/chaos', 'change them: {"fireRate", "wipeRate", "gdpr"} (admin token)'],
  ['GET', '/healthz', 'liveness']
] as const

/** GET / for curl: what this is, where things are and how hot the fire is right now. */
export function describeService (facts: ServiceFacts) {
  return {
    name: 'logfire.io',
    version: facts.version,
    tagline: 'You send us your logs, we set them on fire, so that you will then look at them.',
    endpoints: ENDPOINTS.map(([method, path, description]) => ({ method, path, description })),
    chaos: {
      ...facts.settings,
      seed: facts.seed,
      maxBlocks: facts.maxBlocks,
      rateLimit: facts.rateLimit,
      override: facts.chaosOverride
    },
    admin: facts.admin,
    chain: facts.chain
  }
}
