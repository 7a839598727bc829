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

/** A fire's id: 96 random bits, base64url, 16 characters. */
export const FIRE_ID_BYTES = 12
const FIRE_ID_LENGTH = 16
/** 192 random bits, base64url: 32 characters after the prefix and the fire's id. */
const TOKEN_RANDOM_BYTES = 24

/**
 * The prefix, the fire's id, then the secret. The id is no secret; it lets
 * a replica find the fire's keys (in a Redis Cluster, on the one node that
 * holds the fire) without a lookup that could sit on another node.
 */
export function newToken (scope: Scope, fireId: string, randomBytes: (size: number) => Buffer): string {
  return TOKEN_PREFIXES[scope] + fireId + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url')
}

/** The fire a token names, or undefined when it is no fire's token. */
export function fireIdOf (token: string): string | undefined {
  for (const prefix of Object.values(TOKEN_PREFIXES)) {
    if (token.startsWith(prefix) && token.length > prefix.length + FIRE_ID_LENGTH) return token.slice(prefix.length, prefix.length + FIRE_ID_LENGTH)
  }
  return undefined
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
