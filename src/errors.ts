import createError from '@fastify/error'
import { CHAOS_DIRECTIVES } from './fire/chaos.js'

/*
 * Every error a client can see, each with a stable code. The error handler
 * (http/errors.ts) turns them into {statusCode, code, error, message} plus
 * the extra fields some of them carry (see withDetails).
 */

export const EmptyBody = createError('LOGFIRE_EMPTY_BODY', 'The body holds no log entries', 400)
export const InvalidJson = createError('LOGFIRE_INVALID_JSON', 'The body is not valid JSON: %s', 400)
export const InvalidUtf8 = createError('LOGFIRE_INVALID_UTF8', 'The body is not valid UTF-8', 400)
export const CorruptEncoding = createError('LOGFIRE_CORRUPT_ENCODING', 'The body could not be decoded as %s: %s', 400)
export const InvalidRequest = createError('LOGFIRE_INVALID_REQUEST', '%s', 400)
const InvalidChaosHeader = createError('LOGFIRE_INVALID_CHAOS_HEADER', 'X-Logfire-Chaos: "%s": %s; directives: %s', 400)
export const Unauthorized = createError('LOGFIRE_UNAUTHORIZED', 'A valid admin token is required: Authorization: Bearer <LOGFIRE_ADMIN_TOKEN>', 401)
export const TokenRequired = createError('LOGFIRE_TOKEN_REQUIRED', 'This route needs a token: %s', 401)
export const TokenInvalid = createError('LOGFIRE_TOKEN_INVALID', 'The token presented is not valid for this route', 403)
export const HecEventRequired = createError('LOGFIRE_HEC_EVENT_REQUIRED', 'Event %d has no "event" field', 400)
export const HecEventBlank = createError('LOGFIRE_HEC_EVENT_BLANK', 'Event %d has a blank "event" field', 400)
export const EsInvalidBulk = createError('LOGFIRE_ES_INVALID_BULK', 'Not an Elasticsearch bulk request: %s', 400)
export const OtlpInvalid = createError('LOGFIRE_OTLP_INVALID', 'Not an OTLP logs export request: %s', 400)
export const HecChannelMissing = createError('LOGFIRE_HEC_CHANNEL_MISSING', 'Data channel is missing: send X-Splunk-Request-Channel or ?channel=, a UUID', 400)
export const HecChannelInvalid = createError('LOGFIRE_HEC_CHANNEL_INVALID', 'Invalid data channel: it must be a UUID', 400)
export const HecAckDisabled = createError('LOGFIRE_HEC_ACK_DISABLED', 'ACK is disabled: set LOGFIRE_HEC_ACK=true', 400)
export const P2pDisabled = createError('LOGFIRE_P2P_DISABLED', 'The peer-to-peer network is off: set LOGFIRE_P2P_PORT to turn it on', 404)
export const PeerNotAllowed = createError('LOGFIRE_PEER_NOT_ALLOWED', 'Peer %s is not on a loopback or private network; set LOGFIRE_P2P_ALLOW_PUBLIC=true if you mean it', 400)
export const LokiInvalidPush = createError('LOGFIRE_LOKI_INVALID_PUSH', 'Not a Loki push request: %s', 400)
export const RouteNotFound = createError('LOGFIRE_NOT_FOUND', 'Route %s %s not found', 404)
export const RunNotFound = createError('LOGFIRE_RUN_NOT_FOUND', 'No canary run %s on the scorecard', 404)
export const BlockNotFound = createError('LOGFIRE_BLOCK_NOT_FOUND', 'There is no block %d; the chain has %d blocks', 404)
export const AdminDisabled = createError('LOGFIRE_ADMIN_DISABLED', 'Admin routes are disabled: set LOGFIRE_ADMIN_TOKEN to enable them', 404)
export const ChainBurned = createError('LOGFIRE_BURNED', 'The chain burned down (%s) and took %d blocks with it; your entries were not stored', 410)
export const BodyTooLarge = createError('LOGFIRE_BODY_TOO_LARGE', 'The body is over %d bytes (decoded size included)', 413)
export const EntryTooLarge = createError('LOGFIRE_ENTRY_TOO_LARGE', 'Entry %d is over %d bytes', 413)
const TooManyEntriesError = createError('LOGFIRE_TOO_MANY_ENTRIES', 'The request holds %d entries; at most %d are taken at once (LOGFIRE_MAX_ENTRIES_PER_REQUEST): split the batch', 413)
/** A batch over the entries limit: the limit is in the body, so a shipper can split to it. */
export const tooManyEntries = (entries: number, limit: number) => withExtras(new TooManyEntriesError(entries, limit), { body: { entries, limit } })
export const UnsupportedMediaType = createError('LOGFIRE_UNSUPPORTED_MEDIA_TYPE', 'Content-Type %s is not accepted here; %s', 415)
export const NestedTooDeep = createError('LOGFIRE_NESTED_TOO_DEEP', 'The body nests values deeper than logfire can store', 400)
export const InvalidMsgpack = createError('LOGFIRE_INVALID_MSGPACK', 'The body is not valid MessagePack: %s', 400)
export const UnsupportedEncoding = createError('LOGFIRE_UNSUPPORTED_ENCODING', 'Content-Encoding %s is not supported; use gzip, deflate or br', 415)
export const RateLimited = createError('LOGFIRE_RATE_LIMITED', 'Rate limit exceeded, retry in %s', 429)
export const GdprRefusal = createError('LOGFIRE_GDPR', 'Entry %d mentions "%s"; logs about the EU, the UK or Europe are not processed here', 451)
export const InternalError = createError('LOGFIRE_INTERNAL', 'Something went wrong on our side, and not on purpose', 500)
export const UploadsBusy = createError('LOGFIRE_BUSY', 'Too many request bodies are being received at once (LOGFIRE_MAX_INFLIGHT_BYTES); retry in a moment', 503)
export const StreamFull = createError('LOGFIRE_STREAM_FULL', 'The event stream has as many viewers as it takes (LOGFIRE_MAX_STREAM_CLIENTS); retry in a moment', 503)
const StoreUnavailableError = createError('LOGFIRE_STORE_UNAVAILABLE', 'The chain\'s store (Redis) cannot be reached; nothing was stored, retry in a moment', 503)
/** The store is away for a moment: always with Retry-After, wherever it is raised. */
export const storeUnavailable = () => withExtras(new StoreUnavailableError(), { headers: { 'retry-after': '1' } })
export const Lp0OnFire = createError('LOGFIRE_LP0_ON_FIRE', 'The printer is on fire; try again in a moment', 503)
const FaultOverflowError = createError('LOGFIRE_FAULT_OVERFLOW', 'Too many connections are held by faults at once (LOGFIRE_MAX_HELD_CONNECTIONS): this request was answered at once instead; nothing was stored', 503)
/** A fault that would hold one more connection than the limit allows. */
export const faultOverflow = () => withExtras(new FaultOverflowError(), { headers: { 'retry-after': '1' } })
const InjectedStatusError = createError('LOGFIRE_INJECTED_STATUS', 'Status %d, injected by the chaos (statusRate, or X-Logfire-Chaos: status=%d); nothing was stored', 500)
/** A status the chaos chose, 400 to 599, with Retry-After where clients look for it. */
export function injectedStatus (code: number): Error {
  const error = Object.assign(new InjectedStatusError(code, code), { statusCode: code })
  return code === 429 || code === 503 ? withExtras(error, { headers: { 'retry-after': '1' } }) : error
}

/** An X-Logfire-Chaos value that is not a list of directives: names the one at fault. */
export function invalidChaosHeader ({ directive, problem }: { directive: string, problem: string }): Error {
  const shown = directive.length > 40 ? directive.slice(0, 40) + '…' : directive
  return withExtras(new InvalidChaosHeader(shown, problem, CHAOS_DIRECTIVES.join(', ')), { body: { directive: shown } })
}

/** What an error adds to the response beyond the common four fields. */
export interface ErrorExtras {
  /** Extra body fields, such as `burned` on a 410. */
  body?: Record<string, unknown>
  /** Response headers, such as the 451's Link. */
  headers?: Record<string, string>
}

const EXTRAS = Symbol('logfire.extras')

export function withExtras<E extends Error> (error: E, extras: ErrorExtras): E {
  return Object.assign(error, { [EXTRAS]: extras })
}

export function extrasOf (error: unknown): ErrorExtras {
  return (error as { [EXTRAS]?: ErrorExtras })[EXTRAS] ?? {}
}
