import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BlockNotFound } from '../errors.js'
import { ifNoneMatchHits } from '../http/conditional.js'
import { documented, errorSchema, chaosErrors, CHAOS_HEADERS, optionalToken } from '../http/responses.js'
import { readGuard } from '../http/token-guard.js'
import { chainJson, jsonArrayLength } from './json-stream.js'

export interface ChainRouteOptions {
  readToken: string | undefined
}

export const blockSchema = z.object({
  index: z.number().int().describe('Position in the chain; genesis is 0'),
  previousHash: z.string().describe('The hash of the block before'),
  timestamp: z.number().int().describe('Milliseconds since the epoch'),
  data: z.string().describe('The log entry, verbatim'),
  hash: z.string().describe('sha256 of index + previousHash + timestamp + data, in hex')
})

const verification = z.union([
  z.object({ valid: z.literal(true), length: z.number().int(), head: z.string() }),
  z.object({ valid: z.literal(false), index: z.number().int(), reason: z.string() })
])

const READ = { tags: ['chain'], security: optionalToken('readBearer') }
const readErrors = chaosErrors({ guarded: true })

const nonNegativeInteger = z.string().regex(/^\d{1,15}$/, { error: 'must be a non-negative integer' }).transform(Number)
const blockParams = z.object({ index: nonNegativeInteger })
const chainQuery = z.object({ from: nonNegativeInteger.optional() })

/** Reading the chain and verifying it. */
export const chainRoutes: FastifyPluginAsyncZod<ChainRouteOptions> = async (app, { readToken }) => {
  const onRequest = readGuard(readToken)

  // naivechain's GET /blocks: the bare array, genesis first, or from ?from=
  // on for pollers. HEAD comes with it. The ETag names the chain's state
  // (burns, length, head), so a 304 costs no serialisation at any size.
  app.get('/logs', {
    onRequest,
    config: { docs: { chaos: true, headers: { 'if-none-match': 'An ETag from an earlier read: 304 while the chain is unchanged' } } },
    schema: {
      ...READ,
      summary: 'The whole chain, genesis first',
      description: "naivechain's GET /blocks. With ?from=N only the blocks from N on, for pollers. " +
        'The ETag names the chain (burns, length, head), so If-None-Match is a cheap 304.',
      querystring: chainQuery,
      response: {
        200: documented(z.array(blockSchema), 'The blocks', { ...CHAOS_HEADERS, etag: { type: 'string', description: '"[<fire>-]<burns>-<length>-<head>[-<from>]"' } }),
        304: documented(z.null(), 'The chain has not changed since that ETag', CHAOS_HEADERS),
        ...readErrors
      }
    }
  }, async (request, reply) => {
    const { from } = request.query
    const { fire } = request
    const { chain } = fire
    // Per fire: two fresh fires have the same genesis, and must not share a cached answer.
    const etag = `"${fire.isPublic ? '' : `${fire.id}-`}${chain.epoch}-${chain.length}-${chain.head.hash.slice(0, 16)}${from === undefined ? '' : `-${from}`}"`
    reply.header('etag', etag)
    // A created fire's reads are private already (fires/request.ts).
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-cache')
    // No payload at all: a null would be serialised and announced in Content-Length.
    if (ifNoneMatchHits(request.headers['if-none-match'], etag)) return reply.code(304).send(undefined as never)

    const read = chain.read(from)
    reply.type('application/json; charset=utf-8')
    reply.header('content-length', jsonArrayLength(read))
    return reply.send(chainJson(read))
  })

  app.get('/logs/verify', {
    onRequest,
    config: { docs: { chaos: true } },
    schema: {
      ...READ,
      summary: 'Check every link and hash',
      response: { 200: documented(verification, 'The verdict, and the first broken block if any', CHAOS_HEADERS), ...readErrors }
    }
  }, async (request) => request.fire.chain.verify())

  app.get('/logs/:index', {
    onRequest,
    config: { docs: { chaos: true } },
    schema: {
      ...READ,
      summary: 'One block',
      params: blockParams,
      response: {
        200: documented(blockSchema, 'The block', CHAOS_HEADERS),
        404: documented(errorSchema, 'There is no such block', CHAOS_HEADERS),
        ...readErrors
      }
    }
  }, async (request) => {
    const { chain } = request.fire
    const block = chain.at(request.params.index)
    if (block === undefined) throw new BlockNotFound(request.params.index, chain.length)
    return block
  })
}
