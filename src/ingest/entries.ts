import { InvalidJson, NestedTooDeep } from '../errors.js'
import { backToBackObjects } from './json-objects.js'

const NON_BLANK = /\S/
const LOOKS_LIKE_JSON = new Set(['[', '{', '"'])

/** A string entry is kept as it is; any other JSON value as its compact JSON text. */
function entryText (value: unknown): string {
  return typeof value === 'string' ? value : compactJson(value)
}

/**
 * JSON.stringify, with a client error for values nested so deep that it runs
 * out of stack: JSON.parse and msgpack read tens of thousands of levels that
 * JSON.stringify cannot write back.
 */
export function compactJson (value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  try {
    return JSON.stringify(value, replacer)
  } catch (error) {
    if (error instanceof RangeError) throw new NestedTooDeep()
    throw error
  }
}

function entriesOfJson (value: unknown): string[] {
  if (isLogsEnvelope(value)) return value.logs.map(entryText)
  return Array.isArray(value) ? value.map(entryText) : [entryText(value)]
}

/** pino-http-send's default body, `{"logs":[...]}`: nothing but the array, so a log object is never mistaken for one. */
function isLogsEnvelope (value: unknown): value is { logs: unknown[] } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const keys = Object.keys(value)
  return keys.length === 1 && keys[0] === 'logs' && Array.isArray((value as { logs: unknown }).logs)
}

/**
 * Text as entries: one per line (\n or \r\n), blank lines skipped. A loop,
 * not a split on /\r?\n/ and a trim of every line: a third of the cost, in a
 * step every text line of every batch goes through.
 */
export function nonBlankLines (text: string): string[] {
  const lines: string[] = []
  const pieces = text.split('\n')
  for (let i = 0; i < pieces.length; i++) {
    let line = pieces[i] as string
    // A \r before a \n ends the line with it; a last \r, with no \n after it, is the line's own.
    if (i < pieces.length - 1 && line.endsWith('\r')) line = line.slice(0, -1)
    if (NON_BLANK.test(line)) lines.push(line)
  }
  return lines
}

function tryParse (text: string): { value: unknown } | { error: Error } {
  try {
    return { value: JSON.parse(text) }
  } catch (error) {
    return { error: error as Error }
  }
}

/**
 * Turns a decoded body into log entries, by its shape:
 * - a JSON array gives one entry per element, and so does pino-http-send's
 *   `{"logs":[...]}` envelope;
 * - one JSON value (object, string, ...) gives one entry;
 * - NDJSON gives one entry per line, each line verbatim, and objects back to
 *   back (Fluent Bit's json_stream) one entry per object, verbatim too;
 * - anything else is text, one entry per non-blank line.
 * With `json` set (a JSON Content-Type) a body that is neither JSON nor NDJSON
 * is an error; otherwise it is simply text.
 */
export function parseEntries (text: string, json: boolean): string[] {
  const first = text.search(/\S/)
  if (first === -1) return []

  // A failed JSON.parse costs a thrown error: plain text skips the attempt
  // unless it starts the way a JSON array, object or string does, and so
  // does NDJSON, told apart by its first line.
  if ((json || LOOKS_LIKE_JSON.has(text[first] as string)) && !startsLikeNdjson(text, first)) {
    const whole = tryParse(text)
    if ('value' in whole) return entriesOfJson(whole.value)
    if (text[first] === '{') {
      const objects = objectsBackToBack(text)
      if (objects !== undefined) return objects
    }
  }

  const lines = nonBlankLines(text)
  if (!json) return lines
  for (let i = 0; i < lines.length; i++) {
    const line = tryParse(lines[i] as string)
    if ('error' in line) {
      throw new InvalidJson(lines.length === 1 ? line.error.message : `line ${i + 1}: ${line.error.message}`)
    }
  }
  return lines
}

/** Objects back to back, each as it was written; undefined unless every piece is one. */
function objectsBackToBack (text: string): string[] | undefined {
  const objects = [...backToBackObjects(text)]
  if (objects.length < 2 || objects.some((object) => 'error' in tryParse(object))) return undefined
  return objects
}

/** A first line that is a whole JSON value, with more after it, cannot be one JSON document. */
function startsLikeNdjson (text: string, first: number): boolean {
  const end = text.indexOf('\n', first)
  return end !== -1 && /\S/.test(text.slice(end)) && 'value' in tryParse(text.slice(first, end))
}
