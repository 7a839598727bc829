import { hash } from 'node:crypto'

/** What a fire's token lets its holder do to that fire. */
export type Scope = 'ingest' | 'view' | 'admin'

/**
 * Prefixed, so that a leaked token is recognisable (by a secret scanner, or
 * a person reading a shipper's config) and so that logfire knows a fire's
 * token from the operator's own before looking it up.
 */
export const TOKEN_PREFIXES: Record<Scope, string> = { ingest: 'lf_ing_', view: 'lf_view_', admin: 'lf_adm_' }

/** Every fire token starts so; the operator's tokens (LOGFIRE_*_TOKEN) go on being checked as they always were. */
export const FIRE_TOKEN_MARK = 'lf_'

/** 192 random bits, base64url: 32 characters after the prefix. */
const TOKEN_RANDOM_BYTES = 24

export function newToken (scope: Scope, randomBytes: (size: number) => Buffer): string {
  return TOKEN_PREFIXES[scope] + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url')
}

/**
 * What is kept of a token: its SHA-256. A token of 192 random bits needs no
 * slow hash, and a lookup keyed by the digest is no timing oracle, since a
 * client cannot steer the digest of what it sends.
 */
export function tokenDigest (token: string): string {
  // The one-shot hash: a third of createHash's cost, on every request with a fire's token.
  return hash('sha256', token, 'base64url')
}
