import type { IncomingHttpHeaders } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import { FireTokenRefused, withExtras } from '../errors.js'
import { basicPassword, schemeCredentials } from '../http/tokens.js'
import type { Fire } from './fire.js'
import type { Access, Fires } from './fires.js'
import { FIRE_TOKEN_MARK, type Scope } from './tokens.js'

/** What a route asks of a fire's token: a scope, nothing (any fire's token will do), or the operator's own token. */
export type RouteScope = Scope | 'any' | 'operator'

declare module 'fastify' {
  interface FastifyRequest {
    /** The fire this request is for: its chain, chaos, scenario, scorecard and viewers. */
    readonly fire: Fire
    /** What the fire's token presented opened, already checked against the route; null for the public fire. */
    fireAccess: { fire: Fire, scope: Scope } | null
  }
  interface FastifyContextConfig {
    fireScope?: RouteScope
  }
}

/** The scope each credential slot of the OpenAPI document stands for. */
const SCHEME_SCOPES: Record<string, RouteScope> = {
  ingestBearer: 'ingest',
  splunkToken: 'ingest',
  datadogApiKey: 'ingest',
  lokiBasic: 'ingest',
  readBearer: 'view',
  adminBearer: 'admin',
  metricsBearer: 'operator'
}

/** What a route asks, read from the security it documents: one source for the docs and the check. */
export function routeScope (route: Pick<RouteOptions, 'schema' | 'config'>): RouteScope {
  if ((route.config as { operator?: boolean } | undefined)?.operator === true) return 'operator'
  const security = (route.schema as { security?: Array<Record<string, unknown>> } | undefined)?.security ?? []
  for (const requirement of security) {
    for (const scheme of Object.keys(requirement)) {
      const scope = SCHEME_SCOPES[scheme]
      if (scope !== undefined) return scope
    }
  }
  return 'any'
}

/**
 * A fire's token, from whichever slot its ecosystem uses: the credentials of
 * `Authorization` (Bearer, Splunk, ApiKey, or Basic's password), or
 * `DD-API-KEY`. Undefined when none of them holds one.
 */
export function fireToken (headers: IncomingHttpHeaders): string | undefined {
  const { authorization } = headers
  if (authorization !== undefined) {
    const scheme = /^[^ \t]*/.exec(authorization)?.[0] ?? ''
    const token = scheme.toLowerCase() === 'basic' ? basicPassword(authorization) : schemeCredentials(authorization, scheme)
    if (token?.startsWith(FIRE_TOKEN_MARK) === true) return token
  }
  const apiKey = headers['dd-api-key']
  return typeof apiKey === 'string' && apiKey.startsWith(FIRE_TOKEN_MARK) ? apiKey : undefined
}

const opens = (scope: Scope, needed: RouteScope): boolean => needed === 'any' || needed === scope

// One answer for a token unknown, gone out, or of the wrong scope.
const refused = () => withExtras(new FireTokenRefused(), { headers: { 'www-authenticate': 'Bearer realm="logfire fire"' } })

/**
 * Every request carries its fire. In `single` mode that is the public fire,
 * through a getter and no hook. In `open` mode a fire's token selects its
 * fire before anything else happens to the request (the chaos is that
 * fire's), and is checked against the scope the route asks; a request
 * without one goes to the public fire, and the operator's tokens are checked
 * there as they always were.
 */
export const carryFire = fp(async function carryFire (app: FastifyInstance, { fires }: { fires: Fires }) {
  const publicFire = fires.public
  app.decorateRequest('fireAccess', null)
  app.addHook('preClose', async () => { fires.closeViewers() })
  app.addHook('onClose', async () => { await fires.close() })
  if (!fires.open) {
    // A getter on the request's prototype: nothing per request.
    app.decorateRequest('fire', { getter: () => publicFire })
    return
  }
  app.decorateRequest('fire', {
    getter (this: FastifyRequest) { return this.fireAccess?.fire ?? publicFire }
  })
  app.addHook('onRoute', (route) => {
    route.config = { ...route.config, fireScope: routeScope(route) }
  })
  app.addHook('onRequest', (request, reply, done) => {
    const token = fireToken(request.headers)
    if (token === undefined) {
      done()
      return
    }
    const access = fires.find(token)
    if (access instanceof Promise) {
      // With replicas: asked of the shared registry now and then.
      access.then((opened) => { carry(request, reply, opened, done) }, done)
      return
    }
    carry(request, reply, access, done)
  })
  const sweeping = setInterval(() => { fires.sweep() }, fires.sweepMs)
  sweeping.unref()
  app.addHook('onClose', async () => { clearInterval(sweeping) })
}, { name: 'logfire-fires' })

function carry (request: FastifyRequest, reply: FastifyReply, access: Access | undefined, done: (error?: Error) => void): void {
  if (access === undefined || !opens(access.scope, request.routeOptions.config.fireScope ?? 'any')) {
    done(refused())
    return
  }
  // What one fire shows is that fire's holders' alone: no shared cache keeps it.
  reply.header('cache-control', 'private, no-store')
  const { fire, scope } = access
  if (!(fire instanceof Promise)) {
    request.fireAccess = { fire, scope }
    done()
    return
  }
  // Its first use here: the fire is kindled now.
  fire.then((kindled) => {
    request.fireAccess = { fire: kindled, scope }
    done()
  }, done)
}
