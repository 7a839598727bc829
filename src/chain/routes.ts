import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { requireAdmin } from '../admin/auth.js'
import { BlockNotFound } from '../errors.js'
import { burnChain } from '../fire/burn.js'
import type { ChainEvents } from '../stream/events.js'
import type { ChainStore } from './store.js'
import { verifyChain } from './verify.js'

export interface ChainRouteOptions {
  store: ChainStore
  events: ChainEvents
  adminToken: string | undefined
}

const blockParams = z.object({
  index: z.string().regex(/^\d+$/, { error: 'must be a non-negative integer' }).transform(Number)
})

/** Reading the chain, verifying it, and the stage's burn button. */
export const chainRoutes: FastifyPluginAsyncZod<ChainRouteOptions> = async (app, { store, events, adminToken }) => {
  // naivechain's GET /blocks: the bare array, genesis first. HEAD comes with it.
  app.get('/logs', async (_request, reply) => {
    reply.type('application/json; charset=utf-8')
    return store.toJSONText()
  })

  app.get('/logs/verify', async () => verifyChain(store.blocks()))

  app.get('/logs/:index', { schema: { params: blockParams } }, async (request) => {
    const block = store.at(request.params.index)
    if (block === undefined) throw new BlockNotFound(request.params.index, store.length)
    return block
  })

  // The stage's burn button. The token is checked after the rate limit.
  app.delete('/logs', { config: { fireproof: true }, preHandler: requireAdmin(adminToken) }, async (request) => {
    return { burned: burnChain(store, events, 'admin', request.log) }
  })
}
