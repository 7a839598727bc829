import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { InvalidChaosHeader, Lp0OnFire, storeUnavailable, withExtras } from '../errors.js'
import { settingsHeader, type LiveSettings } from '../admin/settings.js'
import type { Chain } from '../chain/chain.js'
import { isChaosOverride, rollChaos, type ChaosRoll } from './chaos.js'
import type { Random } from './random.js'

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** Request `request` was answered 503: lp0 on fire. */
    fire: { request: number }
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's fate, rolled when it arrived. */
    chaos: ChaosRoll
    /** N in "request N meets the same fate for the same seed"; X-Logfire-Request. */
    requestNumber: number
    /** The X-Logfire-Chaos value asked for, valid or not; undefined when absent or ignored. */
    chaosOverride: string | undefined
  }
  interface FastifyContextConfig {
    /** The stage's own controls (the admin burn) must never catch fire. */
    fireproof?: boolean
  }
}

export interface ChaosOptions {
  /** The draws for request N: the same for the same seed and N, on every replica. */
  draws: (request: number) => Random
  seed: string
  /** Read on every request, so settings changed at runtime apply at once. */
  settings: LiveSettings
  /** Numbers the requests, and hears of the fires. */
  chain: Chain
}

/**
 * The chaos for every route of the context it is registered in. Each request is
 * numbered and rolls its fate in onRequest, before anything can refuse it, so
 * request N always meets the same fate for a given seed. The 503 itself waits
 * for preParsing, after the rate limit has had its say. Not encapsulated: it
 * applies to the routes of the context that registers it.
 */
export const chaos = fp(async function chaos (app: FastifyInstance, options: ChaosOptions) {
  app.decorateRequest('chaos', null as unknown as ChaosRoll)
  app.decorateRequest('chaosOverride', undefined)
  app.decorateRequest('requestNumber', 0)

  const roll = (request: FastifyRequest, reply: FastifyReply, requestNumber: number): void => {
    request.requestNumber = requestNumber
    reply.header('x-logfire-seed', options.seed)
    reply.header('x-logfire-request', String(requestNumber))
    reply.header('x-logfire-settings', settingsHeader(options.settings))

    const override = options.settings.override ? readOverride(request.headers['x-logfire-chaos']) : undefined
    request.chaos = rollChaos(options.draws(requestNumber), options.settings, isChaosOverride(override) ? override : undefined)
    request.chaosOverride = override
  }

  // Callback hooks rather than async ones: they run on every /logs request.
  // In memory the number comes at once; from Redis it takes a round trip.
  app.addHook('onRequest', (request, reply, done) => {
    // A replica that cannot reach the shared chain serves nothing of it.
    if (!options.chain.available) {
      done(storeUnavailable())
      return
    }
    const numbered = options.chain.nextRequestNumber()
    if (typeof numbered === 'number') {
      roll(request, reply, numbered)
      done()
      return
    }
    numbered.then((requestNumber) => {
      roll(request, reply, requestNumber)
      done()
    }, () => { done(storeUnavailable()) })
  })

  app.addHook('preParsing', (request, _reply, payload, done) => {
    // Refused here rather than on arrival, so the rate limit still comes first.
    if (request.chaosOverride !== undefined && !isChaosOverride(request.chaosOverride)) {
      done(new InvalidChaosHeader())
      return
    }
    if (!request.chaos.fire || request.routeOptions.config.fireproof === true) {
      done(null, payload)
      return
    }
    request.log.warn({ fire: 'lp0' }, 'lp0 on fire')
    options.chain.publish({ type: 'fire', request: request.requestNumber })
    done(withExtras(new Lp0OnFire(), { headers: { 'retry-after': '5' } }))
  })
}, { name: 'logfire-chaos' })

function readOverride (header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  return (Array.isArray(header) ? header.join(',') : header).trim().toLowerCase()
}
