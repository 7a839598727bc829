import type { FastifyRequest, onRequestHookHandler } from 'fastify'
import { TokenInvalid, TokenRequired, withExtras } from '../errors.js'
import { bearerToken, tokenMatcher } from './tokens.js'

export interface TokenGuardOptions {
  /** The configured token; no guard at all when it is undefined. */
  expected: string | undefined
  /** Where this route's ecosystem puts the token. */
  present: (request: FastifyRequest) => string | undefined
  /** How to send it, shown in the 401's message. */
  hint: string
  /** The 401's WWW-Authenticate challenge, when the scheme has one. */
  challenge?: string
}

/**
 * onRequest hooks for a route that needs the operator's token: none when
 * no token is configured, so an open route pays nothing. No token is a 401 and a wrong
 * one a 403, each in the route's own error shape, since both are thrown to
 * its error handler.
 */
export function tokenGuard (options: TokenGuardOptions): onRequestHookHandler[] {
  const { expected } = options
  if (expected === undefined) return []
  const matches = tokenMatcher(expected)
  const missing = () => options.challenge === undefined
    ? new TokenRequired(options.hint)
    : withExtras(new TokenRequired(options.hint), { headers: { 'www-authenticate': options.challenge } })
  return [function requireToken (request, _reply, done) {
    // A fire's token, already checked against this route's scope (fires/request.ts).
    if (request.fireAccess !== null) {
      done()
      return
    }
    const presented = options.present(request)
    if (presented === undefined) done(missing())
    else if (!matches(presented)) done(new TokenInvalid())
    else done()
  }]
}

/** A token presented as `Authorization: Bearer`; by default LOGFIRE_READ_TOKEN, for the routes that show the chain. */
export function readGuard (token: string | undefined, variable = 'LOGFIRE_READ_TOKEN', realm = 'logfire read'): onRequestHookHandler[] {
  return tokenGuard({
    expected: token,
    present: (request) => bearerToken(request.headers.authorization),
    hint: `Authorization: Bearer <${variable}>`,
    challenge: `Bearer realm="${realm}"`
  })
}
