import { createHash, timingSafeEqual } from 'node:crypto'
import { encode } from '@msgpack/msgpack'
import { FIRE_TOKEN_MARK } from '../fires/tokens.js'

/*
 * The Forward protocol's optional handshake, when the server holds a
 * shared key (LOGFIRE_FORWARD_SHARED_KEY):
 *
 *   server  ["HELO", {nonce, auth, keepalive}]
 *   client  ["PING", client_hostname, salt, sha512_hex(salt + client_hostname + nonce + key), username, password_digest]
 *   server  ["PONG", ok, reason, server_hostname, sha512_hex(salt + server_hostname + nonce + key)]
 *
 * The client checks the PONG's digest in turn, so each side proves it
 * holds the key without sending it. In single mode logfire asks for no
 * username ("auth" is empty): the key is the credential. In open mode it
 * asks for one, so that a client can name its fire: a fire's ingest token as
 * the username selects that fire, as a token in a syslog line does. The
 * password is not checked: a fire's token is kept only as its digest, and
 * the username already carries it.
 */

export interface ForwardHandshake {
  sharedKey: string
  /** Unpredictable, one per connection: a PING replayed from another session does not match it. */
  nonce: Buffer
  /** What the PONG names as the server; a client refuses a server that has its own hostname. */
  hostname: string
  /** Open mode: HELO's "auth" salt, which makes clients send their username. */
  authSalt?: string
}

/** A PING's answer. With a fire's token, the PONG waits on whether it opens a fire: `refused` is the answer if it does not. */
export interface Pong { ok: boolean, reply: Buffer, fireToken?: { token: string, refused: Buffer } }

const digest = (salt: string | Uint8Array, hostname: string, nonce: Uint8Array, key: string): string =>
  createHash('sha512').update(salt).update(hostname).update(nonce).update(key).digest('hex')

export const helo = ({ nonce, authSalt }: ForwardHandshake): Buffer => Buffer.from(encode(['HELO', { nonce, auth: authSalt ?? '', keepalive: true }]))

/** The PONG for what the client sent first: `ok` false, with the reason, for anything but a PING with the right digest. */
export function pong (handshake: ForwardHandshake, first: unknown): Pong {
  const refusal = (reason: string) => Buffer.from(encode(['PONG', false, reason, handshake.hostname, '']))
  const refuse = (reason: string) => ({ ok: false, reply: refusal(reason) })
  if (!Array.isArray(first) || first[0] !== 'PING' || first.length !== 6) return refuse('PING expected: this server requires a shared key')
  const [, clientHostname, salt, clientDigest] = first as unknown[]
  if (typeof clientHostname !== 'string' || !(typeof salt === 'string' || salt instanceof Uint8Array) || typeof clientDigest !== 'string') return refuse('malformed PING')
  if (clientHostname === handshake.hostname) return refuse('same hostname between client and server')
  const expected = Buffer.from(digest(salt, clientHostname, handshake.nonce, handshake.sharedKey))
  const given = Buffer.from(clientDigest)
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return refuse('shared key mismatch')
  const reply = Buffer.from(encode(['PONG', true, '', handshake.hostname, digest(salt, handshake.hostname, handshake.nonce, handshake.sharedKey)]))
  const username = first[4]
  if (handshake.authSalt === undefined || typeof username !== 'string' || !username.startsWith(FIRE_TOKEN_MARK)) return { ok: true, reply }
  return { ok: true, reply, fireToken: { token: username, refused: refusal('username/password mismatch: this token opens no fire') } }
}
