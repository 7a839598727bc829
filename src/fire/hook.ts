import type { Readable } from 'node:stream'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { invalidChaosHeader, Lp0OnFire, storeUnavailable, withExtras } from '../errors.js'
import { CALM, parseChaosHeader, rollChaos, type ChaosRoll, type DirectiveError } from './chaos.js'
import { answerFaults, faultsBeforeBody, type FaultContext } from './fault-steps.js'
import type { Fault } from './faults.js'
import type { HeldConnections } from './held.js'
import type { StreamFault, StreamProtocol } from './stream-faults.js'

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** Request `request` was answered 503: lp0 on fire; or stream message `request` was dropped for it. */
    fire: { request: number, protocol?: StreamProtocol }
    /** Request `request` met a fault below the status line, or stream message `request` one on its connection. */
    fault: { request: number, fault: Fault | StreamFault, protocol?: StreamProtocol }
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's fate, rolled when it arrived. */
    chaos: ChaosRoll
    /** N in "request N meets the same fate for the same seed"; X-Logfire-Request. */
    requestNumber: number
    /** What is wrong with the X-Logfire-Chaos value sent, if anything: a 400, once the rate limit has had its say. */
    chaosHeaderError: DirectiveError | undefined
  }
}

/**
 * Each request meets the chaos of the fire it carries: that fire's settings
 * (read on every request, so a change applies at once), seed, numbering and
 * scenario.
 */
export interface ChaosOptions {
  /** The connections faults hold open, and their limit. */
  held: HeldConnections
  /** LOGFIRE_MAX_FORCED_DELAY_MS: the longest delay or slow transfer X-Logfire-Chaos may ask for. */
  maxForcedDelayMs: number
  /** The last word before the body is read, once the faults have let it through (the upload budget): an error refuses it. */
  beforeBody?: (request: FastifyRequest, reply: FastifyReply) => Error | undefined
}

/**
 * The chaos for every route of the context it is registered in. Each request is
 * numbered and rolls its fate in onRequest, before anything can refuse it, so
 * request N always meets the same fate for a given seed. The fate itself
 * waits: lp0 and the faults before the body for preParsing, after the rate
 * limit has had its say; the faults at the answer for onSend. Not
 * encapsulated: it applies to the routes of the context that registers it.
 */
export const chaos = fp(async function chaos (app: FastifyInstance, options: ChaosOptions) {
  app.decorateRequest('chaos', null as unknown as ChaosRoll)
  app.decorateRequest('chaosHeaderError', undefined)
  app.decorateRequest('requestNumber', 0)
  const faults: FaultContext = {
    held: options.held,
    signals: new WeakMap(),
    report (request, fault) {
      request.log.warn({ fault: { ...fault, request: request.requestNumber } }, 'fault injected')
      request.fire.chain.publish({ type: 'fault', request: request.requestNumber, fault })
    },
    fire (request) {
      request.log.warn({ fire: 'lp0' }, 'lp0 on fire')
      request.fire.chain.publish({ type: 'fire', request: request.requestNumber })
      return withExtras(new Lp0OnFire(), { headers: { 'retry-after': '5' } })
    }
  }

  // A promise only while a scenario counts its steps across replicas.
  const roll = (request: FastifyRequest, reply: FastifyReply, requestNumber: number): void | Promise<void> => {
    const { fire } = request
    const { settings } = fire
    request.requestNumber = requestNumber
    reply.header('x-logfire-seed', fire.seed)
    reply.header('x-logfire-request', String(requestNumber))
    reply.header('x-logfire-settings', fire.settingsHeader())

    const header = settings.override ? request.headers['x-logfire-chaos'] : undefined
    if (header === undefined) {
      // The roll is drawn either way: a scenario shifts no later request's fate.
      const rolled = rollChaos(fire.draws(requestNumber), settings)
      const decided = fire.decide(request)
      if (!(decided instanceof Promise)) {
        request.chaos = decided ?? rolled
        return
      }
      return decided.then((fate) => { request.chaos = fate ?? rolled })
    }
    const forced = parseChaosHeader(Array.isArray(header) ? header.join(',') : header, { maxForcedDelayMs: options.maxForcedDelayMs, hangMs: settings.hangMs })
    if ('problem' in forced) {
      request.chaos = CALM
      request.chaosHeaderError = forced
    } else {
      request.chaos = forced
    }
  }

  // Callback hooks rather than async ones: they run on every /logs request.
  // In memory the number comes at once; from Redis it takes a round trip.
  app.addHook('onRequest', (request, reply, done) => {
    const { chain } = request.fire
    // A replica that cannot reach the shared chain serves nothing of it.
    if (!chain.available) {
      done(storeUnavailable())
      return
    }
    const numbered = chain.nextRequestNumber()
    if (typeof numbered === 'number') {
      const rolled = roll(request, reply, numbered)
      if (rolled === undefined) done()
      else rolled.then(() => { done() }, () => { done(storeUnavailable()) })
      return
    }
    numbered.then((requestNumber) => roll(request, reply, requestNumber)).then(() => { done() }, () => { done(storeUnavailable()) })
  })

  app.addHook('preParsing', (request, reply, payload, done) => {
    if (request.chaosHeaderError !== undefined) {
      done(invalidChaosHeader(request.chaosHeaderError))
      return
    }
    const fate = request.chaos
    if (fate.faults.length > 0) {
      faultsBeforeBody(faults, request, reply, payload).then((body: Readable | undefined) => {
        if (body !== undefined) admitBody(request, reply, body, done)
      }, done)
      return
    }
    if (fate.fire) done(faults.fire(request))
    else admitBody(request, reply, payload, done)
  })

  const admitBody = (request: FastifyRequest, reply: FastifyReply, body: Readable, done: (error: Error | null, body?: Readable) => void): void => {
    const refusal = options.beforeBody?.(request, reply)
    if (refusal === undefined) done(null, body)
    else done(refusal)
  }

  app.addHook('onSend', (request, reply, payload, done) => {
    // Unnumbered when the store was away: no fate to meet.
    if (request.chaos === null || request.chaos.faults.length === 0) done(null, payload)
    else answerFaults(faults, request, reply, payload, done)
  })
}, { name: 'logfire-chaos' })
