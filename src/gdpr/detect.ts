/**
 * Finds the first mention of the EU, the UK or Europe in a text.
 *
 * Whole words only, case-insensitive: a term may not touch another letter or
 * digit, so "eu-west-1", "Europe/London" and "example.co.uk" match while
 * "queue", "neutral", "Ukraine" and "Luke" do not. Longer phrases are listed
 * first so "European Union" is reported as such and not as "European".
 */
const TERMS = [
  'european[\\s_-]+union',
  'european[\\s_-]+economic[\\s_-]+area',
  'united[\\s_-]+kingdom',
  'great[\\s_-]+britain',
  'europeans?',
  'europe',
  'eurozone',
  'britain',
  'british',
  'brexit',
  'e\\.u\\.?',
  'u\\.k\\.?',
  'eu',
  'uk',
  'eea'
]

// One pass of a regular expression with no nested quantifiers: each start
// position is tried against a fixed set of short alternatives, so the scan
// stays linear even for a hostile megabyte-long line.
const MENTION = new RegExp(`(?<![\\p{L}\\p{N}])(?:${TERMS.join('|')})(?![\\p{L}\\p{N}])`, 'iu')

export interface EuMention {
  /** The words as written in the entry, e.g. "eu" in "eu-west-1". */
  term: string
  /** Offset of the term within the entry, in UTF-16 code units. */
  offset: number
}

export function findEuMention (text: string): EuMention | undefined {
  const match = MENTION.exec(text)
  return match === null ? undefined : { term: match[0], offset: match.index }
}

export interface EntryMention extends EuMention {
  entry: number
}

/** The first entry of a batch that mentions the EU, the UK or Europe. */
export function findEuMentionInEntries (entries: readonly string[]): EntryMention | undefined {
  for (let entry = 0; entry < entries.length; entry++) {
    const mention = findEuMention(entries[entry] as string)
    if (mention !== undefined) return { entry, ...mention }
  }
  return undefined
}
