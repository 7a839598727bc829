import type { FastifyBaseLogger } from 'fastify'
import { GdprRefusal, withExtras } from '../errors.js'
import type { StreamProtocol } from '../fire/stream-faults.js'
import { findEuMentionInEntries, type EntryMention } from './detect.js'

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** Request `request` was refused with a 451: its entry `entry` mentions `term`. */
    gdpr: { request: number, entry: number, term: string, protocol?: StreamProtocol }
  }
}

/** The 451's Link header. RFC 7725: the blocked-by link names who is doing the blocking: us. */
export const BLOCKED_BY = '<https://logfire.io/legal/gdpr>; rel="blocked-by"'

/**
 * The 451 rule: a batch in which any entry mentions the EU, the UK or Europe
 * is refused whole, before anything is stored.
 */
export function refuseEuMentions (entries: readonly string[], log: FastifyBaseLogger, onRefusal: (mention: EntryMention) => void): void {
  const mention = findEuMentionInEntries(entries)
  if (mention === undefined) return
  onRefusal(mention)
  // The matched term is one of our own words; the rest of the line is not logged.
  log.warn({ gdpr: { entry: mention.entry, term: mention.term.toLowerCase() } }, 'GDPR refusal')
  throw withExtras(new GdprRefusal(mention.entry, mention.term), {
    body: { entry: mention.entry, term: mention.term },
    headers: { link: BLOCKED_BY }
  })
}
