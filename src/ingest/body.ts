import { EmptyBody, EntryTooLarge, InvalidUtf8, UnsupportedMediaType, withExtras } from '../errors.js'
import { decodeBody } from './decode.js'
import { parseEntries } from './entries.js'
import { classifyMediaType } from './media-type.js'

export interface BodyLimits {
  maxBodyBytes: number
  maxEntryBytes: number
}

export interface BodyHeaders {
  contentType: string | undefined
  contentEncoding: string | undefined
}

/**
 * From raw request bytes to the entries of one append, or a client error:
 * 415 for binary or undecodable bodies, 413 for oversized ones, 400 for the
 * rest. Nothing here has side effects, so a refused body leaves no trace.
 */
export function bodyToEntries (raw: Buffer, headers: BodyHeaders, limits: BodyLimits): string[] {
  const kind = classifyMediaType(headers.contentType)
  if (kind === 'binary') throw new UnsupportedMediaType(headers.contentType)

  const decoded = decodeBody(raw, headers.contentEncoding, limits.maxBodyBytes)
  let text: string
  try {
    // fatal: invalid UTF-8 is refused instead of silently becoming U+FFFD.
    text = new TextDecoder('utf-8', { fatal: true }).decode(decoded)
  } catch {
    throw new InvalidUtf8()
  }

  const entries = parseEntries(text, kind === 'json')
  if (entries.length === 0) throw new EmptyBody()
  for (let i = 0; i < entries.length; i++) {
    if (Buffer.byteLength(entries[i] as string, 'utf8') > limits.maxEntryBytes) {
      throw withExtras(new EntryTooLarge(i, limits.maxEntryBytes), { body: { entry: i } })
    }
  }
  return entries
}
