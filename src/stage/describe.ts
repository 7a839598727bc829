import type { LiveSettings } from '../admin/settings.js'

export interface ServiceFacts {
  version: string
  seed: string
  settings: LiveSettings
  maxBlocks: number
  maxChainBytes: number
  rateLimit: number
  admin: boolean
  chain: { length: number, head: string }
}

const ENDPOINTS = [
  ['POST', '/logs', 'append log lines: text, JSON, NDJSON, msgpack, gzip'],
  ['POST', '/services/collector/event', 'Splunk HEC events (also /services/collector, /event/1.0)'],
  ['POST', '/services/collector/raw', 'Splunk HEC raw lines'],
  ['POST', '/loki/api/v1/push', 'Loki push, JSON'],
  ['POST', '/api/v2/logs', 'Datadog logs intake'],
  ['GET', '/logs', 'the whole chain, genesis first'],
  ['GET', '/logs/:index', 'one block'],
  ['GET', '/logs/verify', 'check every link and hash'],
  ['GET', '/logs/stream', 'Server-Sent Events: block, burn, fire, gdpr'],
  ['DELETE', '/logs', 'burn the chain (admin token)'],
  ['GET', '/admin/chaos', 'the live chaos settings (admin token)'],
  ['PATCH', '/admin/chaos', 'change them: {"fireRate", "wipeRate", "gdpr", "override"} (admin token)'],
  ['GET', '/healthz', 'liveness'],
  ['GET', '/metrics', 'Prometheus metrics'],
  ['GET', '/docs', 'the OpenAPI documentation']
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
      maxChainBytes: facts.maxChainBytes,
      rateLimit: facts.rateLimit
    },
    admin: facts.admin,
    chain: facts.chain
  }
}
