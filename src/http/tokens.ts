import { hash, timingSafeEqual } from 'node:crypto'

// The one-shot hash: two Hash objects a request (createHash, for the presented
// token and again for the expected one) cost 16,000 instructions more.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

/**
 * Constant-time comparison of presented tokens with the expected one.
 * Hashing first gives both sides the same length, so neither the content nor
 * the length of the secret leaks through timing. The expected token is
 * hashed once, not on every request.
 */
export function tokenMatcher (expected: string): (presented: string) => boolean {
  const expectedDigest = digest(expected)
  return (presented) => timingSafeEqual(digest(presented), expectedDigest)
}

/** The credentials of an `Authorization: <scheme> <credentials>` header, if it uses that scheme. */
export function schemeCredentials (authorization: string | undefined, scheme: string): string | undefined {
  if (authorization === undefined) return undefined
  const space = authorization.search(/[ \t]/)
  if (space === -1 || authorization.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined
  const credentials = authorization.slice(space).trim()
  return credentials === '' ? undefined : credentials
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken (authorization: string | undefined): string | undefined {
  return schemeCredentials(authorization, 'Bearer')
}

/** The password of `Authorization: Basic`, where Loki clients put the token; the user name is ignored. */
export function basicPassword (authorization: string | undefined): string | undefined {
  const credentials = schemeCredentials(authorization, 'Basic')
  if (credentials === undefined) return undefined
  const decoded = Buffer.from(credentials, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  return colon === -1 ? undefined : decoded.slice(colon + 1)
}
