import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { requireAdmin } from '../admin/auth.js'
import type { Chain } from '../chain/chain.js'
import { P2pDisabled, PeerNotAllowed } from '../errors.js'
import { isLocalHost } from '../http/hosts.js'
import { adminErrors, bearerErrors, documented, errorSchema, optionalToken } from '../http/responses.js'
import { readGuard } from '../http/token-guard.js'
import type { PeerNetwork } from './network.js'
import { OPERATOR_ONLY } from '../http/operator.js'

export interface PeerRouteOptions {
  /** Undefined while LOGFIRE_P2P_PORT is unset. */
  network: PeerNetwork | undefined
  chain: Chain
  readToken: string | undefined
}

const peerView = z.object({
  address: z.string(),
  direction: z.enum(['in', 'out']),
  length: z.number().int().optional().describe('Its chain\'s length, as it last said'),
  head: z.string().optional()
})
const peersReply = z.object({
  enabled: z.boolean().describe('Whether LOGFIRE_P2P_PORT is set'),
  length: z.number().int().describe("logfire's chain length"),
  remembering: z.number().int().describe('Peers holding a longer chain than logfire: after a burn, the ones that remember it'),
  peers: z.array(peerView)
})
const peerUrl = z.url({ protocol: /^wss?$/, error: 'a ws:// or wss:// URL' }).max(2048)

/** GET /peers and POST /admin/peers: naivechain's /peers and /addPeer. */
export const peerRoutes: FastifyPluginAsyncZod<PeerRouteOptions> = async (app, options) => {
  const { network, chain } = options
  app.get('/peers', {
    config: OPERATOR_ONLY,
    onRequest: readGuard(options.readToken),
    schema: {
      tags: ['chain'],
      summary: 'The naivechain peers connected',
      security: optionalToken('readBearer'),
      response: { 200: documented(peersReply, 'Each peer, and how many remember a longer chain'), ...bearerErrors('LOGFIRE_READ_TOKEN') }
    }
  }, async () => ({
    enabled: network !== undefined,
    length: chain.length,
    remembering: network?.remembering() ?? 0,
    peers: (network?.peers() ?? []).map(({ length, head, ...peer }) => ({ ...peer, ...(length === undefined ? {} : { length }), ...(head === undefined ? {} : { head }) }))
  }))
}

/** POST /admin/peers: dials a peer, and keeps dialling it. Admin token. */
export const peerAdminRoutes: FastifyPluginAsyncZod<{ network: PeerNetwork | undefined, allowPublic: boolean, adminToken: string | undefined }> = async (app, options) => {
  app.post('/admin/peers', {
    config: OPERATOR_ONLY,
    onRequest: requireAdmin(options.adminToken),
    schema: {
      tags: ['chain'],
      summary: 'Add a naivechain peer',
      description: 'ws:// or wss:// only, on a loopback or private address unless LOGFIRE_P2P_ALLOW_PUBLIC=true. Dialled at once, and again with backoff whenever the connection ends.',
      security: [{ adminBearer: [] as string[] }],
      body: z.object({ peer: peerUrl }),
      response: {
        202: documented(z.object({ peer: z.string() }), 'Being dialled'),
        400: documented(errorSchema, 'Not a ws:// or wss:// URL, or a public address (LOGFIRE_PEER_NOT_ALLOWED)'),
        ...adminErrors()
      }
    }
  }, async (request, reply) => {
    if (options.network === undefined) throw new P2pDisabled()
    const url = new URL(request.body.peer)
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (!options.allowPublic && !isLocalHost(host)) throw new PeerNotAllowed(url.host)
    options.network.dial(url.href)
    return reply.code(202).send({ peer: url.href })
  })
}
