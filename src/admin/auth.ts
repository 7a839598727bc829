import type { FastifyRequest } from 'fastify'
import { AdminDisabled, Unauthorized, withExtras } from '../errors.js'
import { bearerToken, tokenMatcher } from '../http/tokens.js'

/**
 * A hook for the stage's controls: 404 while no admin token is
 * configured (the controls do not exist), 401 without the right one.
 */
export function requireAdmin (adminToken: string | undefined) {
  const matches = adminToken === undefined ? undefined : tokenMatcher(adminToken)
  return async function adminOnly (request: FastifyRequest): Promise<void> {
    // A fire's admin token, already checked against this route (fires/request.ts): that fire's controls.
    if (request.fireAccess !== null) return
    if (matches === undefined) throw new AdminDisabled()
    const presented = bearerToken(request.headers.authorization)
    if (presented === undefined || !matches(presented)) {
      throw withExtras(new Unauthorized(), { headers: { 'www-authenticate': 'Bearer realm="logfire admin"' } })
    }
  }
}
