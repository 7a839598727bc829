import { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { faultOverflow, injectedStatus } from '../errors.js'
import { closeConnection, drainBody, resetConnection, sendGarbage } from './connection.js'
import { faultOf, HOLDING, type Fault } from './faults.js'
import type { HeldConnections } from './held.js'
import { throttled, trickled } from './pacing.js'

/** What the fault steps share with the chaos hook. */
export interface FaultContext {
  held: HeldConnections
  /** Aborts when a held request's connection closes, or the server does. */
  signals: WeakMap<FastifyRequest, AbortSignal>
  /** One log line, one event: never the request's content. */
  report: (request: FastifyRequest, fault: Fault) => void
  /** lp0 catches fire for this request: the 503 to answer with. */
  fire: (request: FastifyRequest) => Error
}

/**
 * The faults that come before the body is parsed, in their order: delay,
 * reset, lp0, status, hang, close, slow-read. Resolves with the body to
 * parse, or undefined when the connection is taken over (reset, hang,
 * close) and the request goes no further; rejects with the error to answer.
 */
export async function faultsBeforeBody (context: FaultContext, request: FastifyRequest, reply: FastifyReply, body: Readable): Promise<Readable | undefined> {
  const { faults } = request.chaos
  const socket = request.raw.socket
  // Every fault that waits holds the connection, so this default is never waited on.
  let signal = AbortSignal.abort()
  if (faults.some((fault) => HOLDING.has(fault.name))) {
    const held = context.held.hold(socket, request.fire.id)
    if (held === undefined) {
      request.log.warn({ fault: { name: 'overflow', request: request.requestNumber } }, 'fault refused: held connections at their limit')
      throw faultOverflow()
    }
    reply.raw.once('close', held.release)
    signal = held.signal
    context.signals.set(request, signal)
  }
  const delay = faultOf(faults, 'delay')
  if (delay !== undefined) {
    context.report(request, delay)
    // Aborted: the client left, or the server is closing and has cut it.
    if (!await waited(delay.ms, signal)) return takeOver(reply)
  }
  const reset = faultOf(faults, 'reset')
  if (reset !== undefined) {
    context.report(request, reset)
    resetConnection(socket)
    return takeOver(reply)
  }
  if (request.chaos.fire) throw context.fire(request)
  const status = faultOf(faults, 'status')
  if (status !== undefined) {
    context.report(request, status)
    throw injectedStatus(status.code)
  }
  const hang = faultOf(faults, 'hang')
  if (hang !== undefined) {
    context.report(request, hang)
    takeOver(reply)
    if (await drainBody(body)) await waited(hang.ms, signal)
    closeConnection(socket)
    return undefined
  }
  const close = faultOf(faults, 'close')
  if (close !== undefined) {
    context.report(request, close)
    takeOver(reply)
    await drainBody(body)
    closeConnection(socket)
    return undefined
  }
  const slowRead = faultOf(faults, 'slow-read')
  if (slowRead !== undefined) {
    context.report(request, slowRead)
    return Readable.from(throttled(body, slowRead.bytesPerSecond, slowRead.forMs, signal), { objectMode: false })
  }
  return body
}

/**
 * The faults at the answer: a success becomes a reset or garbage (its
 * entries are stored all the same), and any answer may trickle out.
 */
export function answerFaults (context: FaultContext, request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: null, payload: unknown) => void): void {
  const { faults } = request.chaos
  const socket = request.raw.socket
  if (reply.statusCode < 300) {
    const ending = faultOf(faults, 'reset-after-append') ?? faultOf(faults, 'garbage')
    if (ending !== undefined) {
      context.report(request, ending)
      takeOver(reply)
      if (ending.name === 'garbage') sendGarbage(socket)
      else resetConnection(socket)
      return
    }
  }
  const slow = faultOf(faults, 'slow-response')
  const signal = context.signals.get(request)
  if (slow === undefined || signal === undefined || payload === null || payload === undefined) {
    done(null, payload)
    return
  }
  context.report(request, slow)
  const [chunks, totalBytes] = payload instanceof Readable
    ? [payload, Number(reply.getHeader('content-length') ?? 0)]
    : [[Buffer.from(payload as string | Buffer)], Buffer.byteLength(payload as string | Buffer)]
  done(null, Readable.from(trickled(chunks, totalBytes, slow.ms, signal), { objectMode: false }))
}

/** From here on the socket is the fault's: Fastify sends nothing and runs no further step. */
function takeOver (reply: FastifyReply): undefined {
  reply.hijack()
  return undefined
}

/** Waits `ms`; false when the wait was cut short by the connection or the server closing. */
async function waited (ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal })
    return true
  } catch {
    return false
  }
}
