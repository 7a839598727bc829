import { HecEventBlank, HecEventRequired, InvalidJson, withExtras } from '../../errors.js'

/**
 * The entries of a HEC event body: JSON envelopes back to back, with or
 * without whitespace between them, as splunk-logging and Fluent Bit send
 * them. Each envelope's `event` is one entry: a string as it is, anything
 * else as its JSON text. Errors name the event by its index, as HEC's
 * `invalid-event-number` does.
 */
export function hecEventEntries (text: string): string[] {
  const entries: string[] = []
  for (const [index, json] of envelopes(text)) {
    let envelope: unknown
    try {
      envelope = JSON.parse(json)
    } catch (error) {
      throw atEvent(new InvalidJson(`event ${index}: ${(error as Error).message}`), index)
    }
    if (typeof envelope !== 'object' || envelope === null || !('event' in envelope) || envelope.event === null) {
      throw atEvent(new HecEventRequired(index), index)
    }
    const { event } = envelope
    if (event === '') throw atEvent(new HecEventBlank(index), index)
    entries.push(typeof event === 'string' ? event : JSON.stringify(event))
  }
  return entries
}

function atEvent<E extends Error> (error: E, index: number): E {
  return withExtras(error, { body: { entry: index } })
}

/**
 * Splits concatenated JSON objects in one pass, tracking strings and nesting
 * only; JSON.parse then checks each piece. Text outside an object is yielded
 * as it is, so that JSON.parse reports it.
 */
function * envelopes (text: string): Generator<[number, string]> {
  let index = 0
  let i = skipWhitespace(text, 0)
  while (i < text.length) {
    const end = text[i] === '{' ? objectEnd(text, i) : text.length
    yield [index++, text.slice(i, end)]
    i = skipWhitespace(text, end)
  }
}

function skipWhitespace (text: string, from: number): number {
  let i = from
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++
  return i
}

/** The index after the `}` that closes the object opened at `start`, or the end of the text. */
function objectEnd (text: string, start: number): number {
  let depth = 0
  let inString = false
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
    } else if (c === '{' || c === '[') {
      depth++
    } else if ((c === '}' || c === ']') && --depth === 0) {
      return i + 1
    }
  }
  return text.length
}
