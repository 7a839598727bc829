import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { AdminDisabled, BlockNotFound, Unauthorized, withExtras } from '../errors.js'
import { bearerToken, tokensMatch } from '../http/tokens.js'
import type { ChainStore } from './store.js'
import { verifyChain } from './verify.js'

export interface ChainRouteOptions {
  store: ChainStore
  adminToken: string | undefined
}

const blockParams = z.object({
  index: z.string().regex(/^\d+$/, { error: 'must be a non-negative integer' }).transform(Number)
})

/** Reading the chain, verifying it, and the stage's burn button. */
export const chainRoutes: FastifyPluginAsyncZod<ChainRouteOptions> = async (app, { store, adminToken }) => {
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

  app.delete('/logs', { config: { fireproof: true } }, async (request) => {
    if (adminToken === undefined) throw new AdminDisabled()
    const presented = bearerToken(request.headers.authorization)
    if (presented === undefined || !tokensMatch(presented, adminToken)) {
      throw withExtras(new Unauthorized(), { headers: { 'www-authenticate': 'Bearer realm="logfire admin"' } })
    }
    const burned = store.burn()
    request.log.warn({ burn: { reason: 'admin', burned } }, 'chain burned')
    return { burned }
  })
}
