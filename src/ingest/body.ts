import { isUtf8 } from 'node:buffer'
import { EmptyBody, EntryTooLarge, InvalidUtf8, UnsupportedMediaType, withExtras } from '../errors.js'
import { decodeBody } from './decode.js'
import { parseEntries } from './entries.js'
import { classifyMediaType, type BodyKind } from './media-type.js'
import { msgpackEntries } from './msgpack.js'

export interface BodyLimits {
  maxBodyBytes: number
  maxEntryBytes: number
}

export interface BodyHeaders {
  contentType: string | undefined
  contentEncoding: string | undefined
}

/** A request body with its Content-Encoding undone, and what its Content-Type says it is. */
export interface DecodedBody {
  kind: Exclude<BodyKind, 'binary'>
  bytes: Buffer
  contentType: string | undefined
}

/** How one ingest route reads a body: from bytes to entries, or a client error. */
export interface BodyFormat {
  /** What to send instead, in a 415's message. */
  accepts: string
  entries: (body: DecodedBody) => string[]
}

/** POST /logs: JSON, NDJSON, text lines, or Fluent Bit's msgpack. */
export const logsFormat: BodyFormat = {
  accepts: 'send text, JSON, NDJSON or msgpack',
  entries: (body) => body.kind === 'msgpack'
    ? msgpackEntries(body.bytes)
    : parseEntries(utf8Text(body), body.kind === 'json')
}

/**
 * From raw request bytes to the entries of one append, or a client error:
 * 415 for binary or undecodable bodies, 413 for oversized ones, 400 for the
 * rest. Nothing here has side effects, so a refused body leaves no trace.
 */
export function bodyToEntries (raw: Buffer, headers: BodyHeaders, limits: BodyLimits, format: BodyFormat = logsFormat): string[] {
  const kind = classifyMediaType(headers.contentType)
  if (kind === 'binary') throw new UnsupportedMediaType(headers.contentType, format.accepts)
  const bytes = decodeBody(raw, headers.contentEncoding, limits.maxBodyBytes)
  return checkedEntries(format.entries({ kind, bytes, contentType: headers.contentType }), limits.maxEntryBytes)
}

/**
 * The body as text, as a fatal TextDecoder reads it: invalid UTF-8 is
 * refused rather than becoming U+FFFD, and a byte order mark is not text.
 * Checked and decoded by Buffer, not by a TextDecoder made for each body:
 * that cost a one-line POST 2% of its instructions. msgpack has no text form.
 */
export function utf8Text (body: DecodedBody): string {
  if (body.kind === 'msgpack') throw new UnsupportedMediaType(body.contentType, 'send text or JSON')
  const { bytes } = body
  if (!isUtf8(bytes)) throw new InvalidUtf8()
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  return bytes.toString('utf8', bom ? 3 : 0)
}

function checkedEntries (entries: string[], maxEntryBytes: number): string[] {
  if (entries.length === 0) throw new EmptyBody()
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as string
    // A UTF-16 unit is at most 3 bytes of UTF-8: most entries are measured without a scan.
    if (entry.length * 3 > maxEntryBytes && Buffer.byteLength(entry, 'utf8') > maxEntryBytes) {
      throw withExtras(new EntryTooLarge(i, maxEntryBytes), { body: { entry: i } })
    }
  }
  return entries
}
