import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest()

/**
 * Constant-time comparison of a presented token with the expected one.
 * Hashing first gives both sides the same length, so neither the content nor
 * the length of the secret leaks through timing.
 */
export function tokensMatch (presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected))
}

/** The token of an `Authorization: Bearer <token>` header, if there is one. */
export function bearerToken (authorization: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')
  return match?.[1]
}
