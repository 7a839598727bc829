import createError from '@fastify/error'
import { CHAOS_DIRECTIVES } from './fire/chaos.js'

/**
 * Every code a client can see: its status, its message, and when it is
 * given, for the reference's table (`npm run docs`). The error handler
 * (http/errors.ts) turns each into {statusCode, code, error, message} plus
 * the extra fields some of them carry (see withExtras).
 */
export const REFUSALS = {
  LOGFIRE_EMPTY_BODY: { status: 400, message: 'The body holds no log entries', when: 'The body holds no entries.' },
  LOGFIRE_INVALID_JSON: { status: 400, message: 'The body is not valid JSON: %s', when: 'Invalid JSON or NDJSON under a JSON Content-Type.' },
  LOGFIRE_INVALID_UTF8: { status: 400, message: 'The body is not valid UTF-8', when: 'The body is not valid UTF-8.' },
  LOGFIRE_CORRUPT_ENCODING: { status: 400, message: 'The body could not be decoded as %s: %s', when: 'A gzip/deflate/br body that does not decode (truncated, not compressed...).' },
  LOGFIRE_INVALID_REQUEST: { status: 400, message: '%s', when: 'A malformed request, such as `GET /logs/abc`.' },
  LOGFIRE_INVALID_CHAOS_HEADER: { status: 400, message: 'X-Logfire-Chaos: "%s": %s; directives: %s', when: '`X-Logfire-Chaos` holds an unknown or malformed directive; `directive` names it.' },
  LOGFIRE_UNAUTHORIZED: { status: 401, message: 'A valid admin token is required: Authorization: Bearer <LOGFIRE_ADMIN_TOKEN>', when: '`DELETE /logs`, `/admin/...` or `/alerts` without the right admin token.' },
  LOGFIRE_TOKEN_REQUIRED: { status: 401, message: 'This route needs a token: %s', when: 'An ingest route without `LOGFIRE_INGEST_TOKEN`, or a read without `LOGFIRE_READ_TOKEN`, when they are set.' },
  LOGFIRE_FIRE_TOKEN_REFUSED: { status: 401, message: 'This route does not take the token presented', when: 'Open mode: a fire\'s token (`lf_...`) that is unknown, gone out, or of another scope than the route needs. The same answer for all three, so that nothing tells them apart.' },
  LOGFIRE_TOKEN_INVALID: { status: 403, message: 'The token presented is not valid for this route', when: 'The wrong ingest or read token.' },
  LOGFIRE_HEC_EVENT_REQUIRED: { status: 400, message: 'Event %d has no "event" field', when: 'A HEC envelope with no `event`.' },
  LOGFIRE_HEC_EVENT_BLANK: { status: 400, message: 'Event %d has a blank "event" field', when: 'A HEC envelope with an empty `event`.' },
  LOGFIRE_ES_INVALID_BULK: { status: 400, message: 'Not an Elasticsearch bulk request: %s', when: 'An Elasticsearch `_bulk` body that is not action and source pairs of NDJSON.' },
  LOGFIRE_OTLP_INVALID: { status: 400, message: 'Not an OTLP logs export request: %s', when: 'An OTLP body that is not an `ExportLogsServiceRequest`, in protobuf or JSON.' },
  LOGFIRE_HEC_CHANNEL_MISSING: { status: 400, message: 'Data channel is missing: send X-Splunk-Request-Channel or ?channel=, a UUID', when: 'With `LOGFIRE_HEC_ACK=true`, a HEC request with no channel (`X-Splunk-Request-Channel` or `?channel=`).' },
  LOGFIRE_HEC_CHANNEL_INVALID: { status: 400, message: 'Invalid data channel: it must be a UUID', when: 'A HEC channel that is not a UUID.' },
  LOGFIRE_HEC_ACK_DISABLED: { status: 400, message: 'ACK is disabled: set LOGFIRE_HEC_ACK=true', when: '`POST /services/collector/ack` while `LOGFIRE_HEC_ACK` is off.' },
  LOGFIRE_P2P_DISABLED: { status: 404, message: 'The peer-to-peer network is off: set LOGFIRE_P2P_PORT to turn it on', when: '`POST /admin/peers` while `LOGFIRE_P2P_PORT` is not set.' },
  LOGFIRE_PEER_NOT_ALLOWED: { status: 400, message: 'Peer %s is not on a loopback or private network; set LOGFIRE_P2P_ALLOW_PUBLIC=true if you mean it', when: '`POST /admin/peers` to a public address without `LOGFIRE_P2P_ALLOW_PUBLIC=true`.' },
  LOGFIRE_LOKI_INVALID_PUSH: { status: 400, message: 'Not a Loki push request: %s', when: 'A Loki push body of the wrong shape.' },
  LOGFIRE_NOT_FOUND: { status: 404, message: 'Route %s %s not found', when: 'No such route.' },
  LOGFIRE_RUN_NOT_FOUND: { status: 404, message: 'No canary run %s on the scorecard', when: '`GET` or `DELETE /scorecard/:run` for a run logfire does not keep.' },
  LOGFIRE_BLOCK_NOT_FOUND: { status: 404, message: 'There is no block %d; the chain has %d blocks', when: '`GET /logs/:index` past the end of the chain.' },
  LOGFIRE_ADMIN_DISABLED: { status: 404, message: 'Admin routes are disabled: set LOGFIRE_ADMIN_TOKEN to enable them', when: '`DELETE /logs` or `/admin/chaos` when `LOGFIRE_ADMIN_TOKEN` is not set.' },
  LOGFIRE_BURNED: { status: 410, message: 'The chain burned down (%s) and took %d blocks with it; your entries were not stored', when: 'The chain burned down; `burned` says how many blocks were lost, `reason` whether at `random` or for the `memory budget`. With Redis, only the request that would overflow the budget gets it, not the others appended with it.' },
  LOGFIRE_BODY_TOO_LARGE: { status: 413, message: 'The body is over %d bytes (decoded size included)', when: 'The body, raw or decoded, is over `LOGFIRE_MAX_BODY_BYTES`.' },
  LOGFIRE_ENTRY_TOO_LARGE: { status: 413, message: 'Entry %d is over %d bytes', when: 'One entry is over `LOGFIRE_MAX_ENTRY_BYTES`; `entry` says which (from 0).' },
  LOGFIRE_TOO_MANY_ENTRIES: { status: 413, message: 'The request holds %d entries; at most %d are taken at once (LOGFIRE_MAX_ENTRIES_PER_REQUEST): split the batch', when: 'More entries than `LOGFIRE_MAX_ENTRIES_PER_REQUEST`; `entries` says how many, `limit` how many to split to.' },
  LOGFIRE_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content-Type %s is not accepted here; %s', when: 'A binary Content-Type, or one the route does not read (protobuf on Loki\'s route).' },
  LOGFIRE_NESTED_TOO_DEEP: { status: 400, message: 'The body nests values deeper than logfire can store', when: 'JSON or msgpack nested tens of thousands of levels deep.' },
  LOGFIRE_INVALID_MSGPACK: { status: 400, message: 'The body is not valid MessagePack: %s', when: 'An `application/msgpack` body that does not decode.' },
  LOGFIRE_UNSUPPORTED_ENCODING: { status: 415, message: 'Content-Encoding %s is not supported; use gzip, deflate or br', when: 'A Content-Encoding other than gzip, deflate or br.' },
  LOGFIRE_RATE_LIMITED: { status: 429, message: 'Rate limit exceeded, retry in %s', when: 'Over the rate limit (`LOGFIRE_RATE_LIMIT`, or `LOGFIRE_ADMIN_RATE_LIMIT` on the admin routes); see `Retry-After`.' },
  LOGFIRE_GDPR: { status: 451, message: 'Entry %d mentions "%s"; logs about the EU, the UK or Europe are not processed here', when: 'An entry mentions the EU, the UK or Europe; `entry` and `term` say where and what.' },
  LOGFIRE_INTERNAL: { status: 500, message: 'Something went wrong on our side, and not on purpose', when: 'A bug: a generic message, never a stack trace. The server keeps running.' },
  LOGFIRE_BUSY: { status: 503, message: 'Too many request bodies are being received at once (LOGFIRE_MAX_INFLIGHT_BYTES); retry in a moment', when: '`LOGFIRE_MAX_INFLIGHT_BYTES` of request bodies are already being received; retry after `Retry-After`.' },
  LOGFIRE_STREAM_FULL: { status: 503, message: 'The event stream has as many viewers as it takes (LOGFIRE_MAX_STREAM_CLIENTS); retry in a moment', when: '`GET /logs/stream` already has `LOGFIRE_MAX_STREAM_CLIENTS` viewers.' },
  LOGFIRE_FIRES_FULL: { status: 503, message: 'logfire keeps as many fires as it can already; try again later', when: 'Open mode: `POST /fires` while `LOGFIRE_MAX_FIRES` fires are alight. None is put out to make room; one that goes idle makes room.' },
  LOGFIRE_STORE_UNAVAILABLE: { status: 503, message: 'The chain\'s store (Redis) cannot be reached; nothing was stored, retry in a moment', when: 'Redis (`LOGFIRE_REDIS_URL`) cannot be reached: nothing of the request was stored; `Retry-After: 1`. Reads get it too, rather than a stale chain.' },
  LOGFIRE_LP0_ON_FIRE: { status: 503, message: 'The printer is on fire; try again in a moment', when: 'The printer is on fire (`"error": "lp0 on fire"`), at random; see `Retry-After`.' },
  LOGFIRE_FAULT_OVERFLOW: { status: 503, message: 'Too many connections are held by faults at once (LOGFIRE_MAX_HELD_CONNECTIONS): this request was answered at once instead; nothing was stored', when: 'A fault would have held more than `LOGFIRE_MAX_HELD_CONNECTIONS` connections: answered at once instead; `Retry-After: 1`.' },
  LOGFIRE_INJECTED_STATUS: { status: 500, message: 'Status %d, injected by the chaos (statusRate, or X-Logfire-Chaos: status=%d); nothing was stored', when: 'A status the chaos chose (`statusRate`, or `X-Logfire-Chaos: status=<code>`); nothing was stored.' }
} as const satisfies Record<string, { status: number, message: string, when: string }>

const refusal = <C extends keyof typeof REFUSALS>(code: C) => createError(code, REFUSALS[code].message, REFUSALS[code].status)

export const EmptyBody = refusal('LOGFIRE_EMPTY_BODY')
export const InvalidJson = refusal('LOGFIRE_INVALID_JSON')
export const InvalidUtf8 = refusal('LOGFIRE_INVALID_UTF8')
export const CorruptEncoding = refusal('LOGFIRE_CORRUPT_ENCODING')
export const InvalidRequest = refusal('LOGFIRE_INVALID_REQUEST')
const InvalidChaosHeader = refusal('LOGFIRE_INVALID_CHAOS_HEADER')
export const Unauthorized = refusal('LOGFIRE_UNAUTHORIZED')
export const TokenRequired = refusal('LOGFIRE_TOKEN_REQUIRED')
export const TokenInvalid = refusal('LOGFIRE_TOKEN_INVALID')
export const FireTokenRefused = refusal('LOGFIRE_FIRE_TOKEN_REFUSED')
export const HecEventRequired = refusal('LOGFIRE_HEC_EVENT_REQUIRED')
export const HecEventBlank = refusal('LOGFIRE_HEC_EVENT_BLANK')
export const EsInvalidBulk = refusal('LOGFIRE_ES_INVALID_BULK')
export const OtlpInvalid = refusal('LOGFIRE_OTLP_INVALID')
export const HecChannelMissing = refusal('LOGFIRE_HEC_CHANNEL_MISSING')
export const HecChannelInvalid = refusal('LOGFIRE_HEC_CHANNEL_INVALID')
export const HecAckDisabled = refusal('LOGFIRE_HEC_ACK_DISABLED')
export const P2pDisabled = refusal('LOGFIRE_P2P_DISABLED')
export const PeerNotAllowed = refusal('LOGFIRE_PEER_NOT_ALLOWED')
export const LokiInvalidPush = refusal('LOGFIRE_LOKI_INVALID_PUSH')
export const RouteNotFound = refusal('LOGFIRE_NOT_FOUND')
export const RunNotFound = refusal('LOGFIRE_RUN_NOT_FOUND')
export const BlockNotFound = refusal('LOGFIRE_BLOCK_NOT_FOUND')
export const AdminDisabled = refusal('LOGFIRE_ADMIN_DISABLED')
export const ChainBurned = refusal('LOGFIRE_BURNED')
export const BodyTooLarge = refusal('LOGFIRE_BODY_TOO_LARGE')
export const EntryTooLarge = refusal('LOGFIRE_ENTRY_TOO_LARGE')
const TooManyEntriesError = refusal('LOGFIRE_TOO_MANY_ENTRIES')
/** A batch over the entries limit: the limit is in the body, so a shipper can split to it. */
export const tooManyEntries = (entries: number, limit: number) => withExtras(new TooManyEntriesError(entries, limit), { body: { entries, limit } })
export const UnsupportedMediaType = refusal('LOGFIRE_UNSUPPORTED_MEDIA_TYPE')
export const NestedTooDeep = refusal('LOGFIRE_NESTED_TOO_DEEP')
export const InvalidMsgpack = refusal('LOGFIRE_INVALID_MSGPACK')
export const UnsupportedEncoding = refusal('LOGFIRE_UNSUPPORTED_ENCODING')
export const RateLimited = refusal('LOGFIRE_RATE_LIMITED')
export const GdprRefusal = refusal('LOGFIRE_GDPR')
export const InternalError = refusal('LOGFIRE_INTERNAL')
export const UploadsBusy = refusal('LOGFIRE_BUSY')
export const StreamFull = refusal('LOGFIRE_STREAM_FULL')
export const FiresFull = refusal('LOGFIRE_FIRES_FULL')
const StoreUnavailableError = refusal('LOGFIRE_STORE_UNAVAILABLE')
/** The store is away for a moment: always with Retry-After, wherever it is raised. */
export const storeUnavailable = () => withExtras(new StoreUnavailableError(), { headers: { 'retry-after': '1' } })
export const Lp0OnFire = refusal('LOGFIRE_LP0_ON_FIRE')
const FaultOverflowError = refusal('LOGFIRE_FAULT_OVERFLOW')
/** A fault that would hold one more connection than the limit allows. */
export const faultOverflow = () => withExtras(new FaultOverflowError(), { headers: { 'retry-after': '1' } })
const InjectedStatusError = refusal('LOGFIRE_INJECTED_STATUS')
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
