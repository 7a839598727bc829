import type { ServerResponse } from 'node:http'
import { fastifySSE } from '@fastify/sse'
import type { FastifyPluginAsync } from 'fastify'
import { Feed, FEED_EVENTS } from './feed.js'
import { readGuard } from '../http/token-guard.js'
import { bearerErrors, documented, errorSchema, optionalToken } from '../http/responses.js'
import { z } from 'zod'
import { StreamFull, withExtras } from '../errors.js'

export interface StreamRouteOptions {
  /** How many recent blocks a new viewer is shown. */
  backlog: number
  /** Comment lines at this interval keep proxies from closing an idle stream. */
  heartbeatMs: number
  readToken: string | undefined
  /** A viewer this far behind the head is dropped, and comes back with Last-Event-ID. */
  maxLagBytes: number
}

/**
 * GET /logs/stream: Server-Sent Events for everything that happens to the
 * chain. Outside the fire: a viewer is never on fire and never takes a
 * request number, so watching does not change what the shippers meet.
 */
export const streamRoutes: FastifyPluginAsync<StreamRouteOptions> = async (app, options) => {
  await app.register(fastifySSE, { heartbeatInterval: options.heartbeatMs })

  // 'manual': no Accept negotiation, so every client gets the stream and
  // every error keeps logfire's JSON shape.
  app.get('/logs/stream', {
    onRequest: readGuard(options.readToken),
    sse: { kind: 'manual' },
    config: { docs: { headers: { 'last-event-id': 'The id of the last event seen: resume from there' } } },
    schema: {
      tags: ['chain'],
      summary: `Server-Sent Events: ${Object.keys(FEED_EVENTS).join(', ')}`,
      description: `Events: ${Object.entries(FEED_EVENTS).map(([name, what]) => `\`${name}\`, ${what}`).join('; ')}. ` +
        'Event ids are chain positions (`<burns>-<index>`): Last-Event-ID resumes exactly where the chain still is. ' +
        'Not in the fire: watching never changes what the shippers meet.',
      security: optionalToken('readBearer'),
      response: {
        200: { description: 'The event stream', content: { 'text/event-stream': { schema: z.string() } } },
        ...bearerErrors('LOGFIRE_READ_TOKEN'),
        503: documented(errorSchema, 'As many viewers as LOGFIRE_MAX_STREAM_CLIENTS are watching; retry later')
      }
    }
  }, async (request, reply) => {
    const { chain, viewers } = request.fire
    if (viewers.count >= request.fire.maxViewers) throw withExtras(new StreamFull(), { headers: { 'retry-after': '5' } })
    const stream = reply.sse
    const lastEventId = request.headers['last-event-id']
    const feed = new Feed(chain, {
      lastEventId: Array.isArray(lastEventId) ? lastEventId[0] : lastEventId,
      backlog: options.backlog,
      maxLagBytes: options.maxLagBytes,
      lastBurn: chain.lastBurn
    })

    // One writer per viewer. It runs on the turn after it is woken, so the
    // blocks of every append in between go out in one write: a write is a
    // system call per viewer, and a hundred viewers written to on every
    // append made a one-line POST cost many times its own work. A client
    // that waits for its answers still has its blocks shown before a burn it
    // sends next. A write the socket cannot take waits for it to drain, so a
    // slow viewer costs a cursor, not a copy of the chain.
    const socket = reply.raw
    let scheduled = false
    let pumping = false
    const pump = async (): Promise<void> => {
      scheduled = false
      if (pumping) return
      pumping = true
      try {
        let next = feed.next()
        while (next !== undefined && stream.isConnected) {
          const batch: Buffer[] = []
          let bytes = 0
          for (; next !== undefined && bytes < WRITE_BYTES; next = feed.next()) {
            const frame = viewers.frames.of(next)
            batch.push(frame)
            bytes += frame.length
          }
          if (!socket.write(batch.length === 1 ? batch[0] as Buffer : Buffer.concat(batch, bytes))) await drainedOrClosed(socket)
        }
      } finally {
        pumping = false
      }
    }
    const wake = () => {
      if (scheduled) return
      scheduled = true
      setImmediate(() => { pump().catch(() => stream.close()) })
    }

    const unsubscribe = chain.subscribe((event) => {
      const keepingUp = event.type !== 'append' || feed.lagBytes(event.first) <= options.maxLagBytes
      if (feed.record(event) && keepingUp) {
        wake()
        return
      }
      // Too far behind, or not reading at all: dropped at once, unsent
      // bytes and all, rather than held. It resumes with Last-Event-ID.
      stream.close()
      reply.raw.destroy()
    })
    viewers.add(stream)
    stream.onClose(() => {
      unsubscribe()
      viewers.delete(stream)
    })

    stream.keepAlive()
    stream.sendHeaders()
    // Reconnect fast: on stage, a second without the fire is a long time.
    reply.raw.write('retry: 1000\n\n')
    wake()
  })
}

// What one write to a viewer holds at most, when it has catching up to do.
const WRITE_BYTES = 64 * 1024

function drainedOrClosed (socket: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.once('drain', done)
    socket.once('close', done)
  })
}
