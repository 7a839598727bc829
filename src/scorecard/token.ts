/** What `logfire canary` writes at the start of every line; the rest is filler. */
export const TOKEN_MARK = 'logfire-canary run='

/** The largest sequence number a run may use: past it, a token is malformed. */
export const MAX_SEQ = 1e12

export interface CanaryToken {
  run: string
  seq: number
  /** When the canary wrote the line, in ms since the epoch. */
  sent: number
}

export const RUN_ID = /^[A-Za-z0-9_.-]{1,64}$/

// Anchored at the mark: the id, the sequence number and the send time, each bounded.
const TOKEN = /^logfire-canary run=([A-Za-z0-9_.-]{1,64}) seq=(\d{1,13}) sent=(\d{1,15})(?!\d)/
// The longest token there is, so the regex never reads a long line.
const LONGEST_TOKEN = TOKEN_MARK.length + 64 + ' seq='.length + 13 + ' sent='.length + 16

/** The canary line for `seq` of `run`, padded with filler to `size` bytes. */
export function canaryLine (run: string, seq: number, sent: number, size = 0): string {
  const token = `${TOKEN_MARK}${run} seq=${seq} sent=${sent}`
  return size > token.length + 1 ? `${token} ${'.'.repeat(size - token.length - 1)}` : token
}

/**
 * The canary token in an entry, whatever wraps it (a syslog header, a JSON
 * envelope, a HEC event). `malformed` when the entry holds the mark but not
 * exactly one valid token: a huge or negative number, a bad id, or many
 * tokens in one line. Undefined when it holds no mark at all, which is the
 * cost of an entry that is not a canary's: one indexOf.
 */
export function findToken (entry: string): CanaryToken | 'malformed' | undefined {
  const at = entry.indexOf(TOKEN_MARK)
  if (at === -1) return undefined
  const match = TOKEN.exec(entry.slice(at, at + LONGEST_TOKEN))
  if (match === null || entry.indexOf(TOKEN_MARK, at + TOKEN_MARK.length) !== -1) return 'malformed'
  const seq = Number(match[2])
  const sent = Number(match[3])
  if (seq > MAX_SEQ) return 'malformed'
  return { run: match[1] as string, seq, sent }
}

/** How many canary lines of each run `entries` hold; undefined when none does. */
export function canaryLinesByRun (entries: readonly string[]): Record<string, number> | undefined {
  let lines: Record<string, number> | undefined
  for (const entry of entries) {
    const found = findToken(entry)
    if (found === undefined || found === 'malformed') continue
    lines ??= Object.create(null) as Record<string, number>
    lines[found.run] = (lines[found.run] ?? 0) + 1
  }
  return lines
}
