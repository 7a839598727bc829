import { createHash, timingSafeEqual } from 'node:crypto'
import { encode } from '@msgpack/msgpack'

/*
 * The Forward protocol's optional handshake, when the server holds a
 * shared key (LOGFIRE_FORWARD_SHARED_KEY):
 *
 *   server  ["HELO", {nonce, auth, keepalive}]
 *   client  ["PING", client_hostname, salt, sha512_hex(salt + client_hostname + nonce + key), username, password_digest]
 *   server  ["PONG", ok, reason, server_hostname, sha512_hex(salt + server_hostname + nonce + key)]
 *
 * The client checks the PONG's digest in turn, so each side proves it
 * holds the key without sending it. logfire asks for no username ("auth"
 * is empty): the key is the credential.
 */

export interface ForwardHandshake {
  sharedKey: string
  /** Unpredictable, one per connection: a PING replayed from another session does not match it. */
  nonce: Buffer
  /** What the PONG names as the server; a client refuses a server that has its own hostname. */
  hostname: string
}

const digest = (salt: string | Uint8Array, hostname: string, nonce: Uint8Array, key: string): string =>
  createHash('sha512').update(salt).update(hostname).update(nonce).update(key).digest('hex')

export const helo = ({ nonce }: ForwardHandshake): Buffer => Buffer.from(encode(['HELO', { nonce, auth: '', keepalive: true }]))

/** The PONG for what the client sent first: `ok` false, with the reason, for anything but a PING with the right digest. */
export function pong (handshake: ForwardHandshake, first: unknown): { ok: boolean, reply: Buffer } {
  const refuse = (reason: string) => ({ ok: false, reply: Buffer.from(encode(['PONG', false, reason, handshake.hostname, ''])) })
  if (!Array.isArray(first) || first[0] !== 'PING' || first.length !== 6) return refuse('PING expected: this server requires a shared key')
  const [, clientHostname, salt, clientDigest] = first as unknown[]
  if (typeof clientHostname !== 'string' || !(typeof salt === 'string' || salt instanceof Uint8Array) || typeof clientDigest !== 'string') return refuse('malformed PING')
  if (clientHostname === handshake.hostname) return refuse('same hostname between client and server')
  const expected = Buffer.from(digest(salt, clientHostname, handshake.nonce, handshake.sharedKey))
  const given = Buffer.from(clientDigest)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse('shared key mismatch')
  return { ok: true, reply: Buffer.from(encode(['PONG', true, '', handshake.hostname, digest(salt, handshake.hostname, handshake.nonce, handshake.sharedKey)])) }
}
