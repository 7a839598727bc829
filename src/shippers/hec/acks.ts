/**
 * Splunk HEC's indexer acknowledgements, per channel: each accepted request
 * gets the channel's next ackId, and a query reports whether it is indexed.
 * As Splunk does, an id reported true is forgotten, and an unknown id reads
 * false. Bounded: channels past the cap forget the least recently used, and
 * ids pending past a channel's cap forget the oldest, which then read false.
 */
export class AckLedger {
  readonly #channels = new Map<string, Channel>()

  constructor (private readonly limits: { maxChannels: number, maxPendingAcks: number }, private readonly clock: () => number) {}

  /** The channel's next ackId, true from `indexedAt` on (Infinity: never). */
  issue (channel: string, indexedAt: number): number {
    const state = this.#use(channel)
    const id = state.next++
    state.pending.set(id, indexedAt)
    if (state.pending.size > this.limits.maxPendingAcks) state.pending.delete(state.pending.keys().next().value as number)
    return id
  }

  /** Each id asked about, true if indexed; those reported true are forgotten. */
  query (channel: string, ids: readonly number[]): Record<string, boolean> {
    const state = this.#channels.get(channel)
    const now = this.clock()
    const answers: Record<string, boolean> = {}
    for (const id of ids) {
      const indexedAt = state?.pending.get(id)
      const indexed = indexedAt !== undefined && indexedAt <= now
      if (indexed) state?.pending.delete(id)
      answers[String(id)] = indexed
    }
    return answers
  }

  get channels (): number { return this.#channels.size }

  #use (channel: string): Channel {
    let state = this.#channels.get(channel)
    if (state !== undefined) {
      this.#channels.delete(channel)
    } else {
      state = { next: 0, pending: new Map() }
      if (this.#channels.size >= this.limits.maxChannels) this.#channels.delete(this.#channels.keys().next().value as string)
    }
    this.#channels.set(channel, state)
    return state
  }
}

interface Channel {
  next: number
  /** Pending ids, oldest first, with when each turns true. */
  pending: Map<number, number>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A channel as HEC takes it: a UUID, lowercased so case does not split a channel in two. */
export function channelOf (value: string | undefined): { channel: string } | 'missing' | 'invalid' {
  if (value === undefined || value === '') return 'missing'
  return UUID.test(value) ? { channel: value.toLowerCase() } : 'invalid'
}
