import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { requireAdmin } from '../admin/auth.js'
import { BlockNotFound } from '../errors.js'
import { ifNoneMatchHits } from '../http/conditional.js'
import { readGuard } from '../http/token-guard.js'
import { burnChain } from '../fire/burn.js'
import type { ChainEvents } from '../stream/events.js'
import { chainJson, jsonArrayLength } from './json-stream.js'
import type { ChainStore } from './store.js'
import { verifyChain } from './verify.js'

export interface ChainRouteOptions {
  store: ChainStore
  events: ChainEvents
  adminToken: string | undefined
  readToken: string | undefined
}

const nonNegativeInteger = z.string().regex(/^\d{1,15}$/, { error: 'must be a non-negative integer' }).transform(Number)
const blockParams = z.object({ index: nonNegativeInteger })
const chainQuery = z.object({ from: nonNegativeInteger.optional() })

/** Reading the chain, verifying it, and the stage's burn button. */
export const chainRoutes: FastifyPluginAsyncZod<ChainRouteOptions> = async (app, { store, events, adminToken, readToken }) => {
  const onRequest = readGuard(readToken)

  // naivechain's GET /blocks: the bare array, genesis first, or from ?from=
  // on for pollers. HEAD comes with it. The ETag names the chain's state
  // (burns, length, head), so a 304 costs no serialisation at any size.
  app.get('/logs', { onRequest, schema: { querystring: chainQuery } }, async (request, reply) => {
    const { from } = request.query
    const etag = `"${store.epoch}-${store.length}-${store.head.hash.slice(0, 16)}${from === undefined ? '' : `-${from}`}"`
    reply.header('etag', etag)
    reply.header('cache-control', 'no-cache')
    if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send()

    const slice = store.slice(from)
    reply.type('application/json; charset=utf-8')
    reply.header('content-length', jsonArrayLength(slice))
    return reply.send(chainJson(slice))
  })

  app.get('/logs/verify', { onRequest }, async () => verifyChain(store.toArray()))

  app.get('/logs/:index', { onRequest, schema: { params: blockParams } }, async (request) => {
    const block = store.at(request.params.index)
    if (block === undefined) throw new BlockNotFound(request.params.index, store.length)
    return block
  })

  // The stage's burn button. The token is checked after the rate limit.
  app.delete('/logs', { config: { fireproof: true }, preHandler: requireAdmin(adminToken) }, async (request) => {
    return { burned: burnChain(store, events, 'admin', request.log) }
  })
}
