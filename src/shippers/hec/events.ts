import { HecEventBlank, HecEventRequired, InvalidJson, withExtras } from '../../errors.js'
import { utf8Text, type BodyFormat } from '../../ingest/body.js'
import { compactJson, nonBlankLines } from '../../ingest/entries.js'
import { backToBackObjects } from '../../ingest/json-objects.js'

export const hecEventFormat: BodyFormat = { accepts: 'send HEC event JSON', entries: (body) => hecEventEntries(utf8Text(body)) }
export const hecRawFormat: BodyFormat = { accepts: 'send text lines', entries: (body) => nonBlankLines(utf8Text(body)) }

/**
 * The entries of a HEC event body: JSON envelopes back to back, with or
 * without whitespace between them, as splunk-logging and Fluent Bit send
 * them. Each envelope's `event` is one entry: a string as it is, anything
 * else as its JSON text. Errors name the event by its index, as HEC's
 * `invalid-event-number` does.
 */
export function hecEventEntries (text: string): string[] {
  const entries: string[] = []
  for (const [index, json] of [...backToBackObjects(text)].entries()) {
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
    entries.push(typeof event === 'string' ? event : compactJson(event))
  }
  return entries
}

function atEvent<E extends Error> (error: E, index: number): E {
  return withExtras(error, { body: { entry: index } })
}
