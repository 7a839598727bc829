import type { Alert } from '../alerts/engine.js'
import type { Block } from '../chain/block.js'
import type { BurnEvent, BurnReason, ChainEvent } from '../chain/events.js'
import type { Fault } from '../fire/faults.js'
import type { StreamFault, StreamProtocol } from '../fire/stream-faults.js'

/** What a viewer receives: one Server-Sent Event. */
export type FeedEvent =
  | { id: string, event: 'block', data: Block, text: Buffer }
  | { id: string, event: 'burn', data: { burned: number, reason: BurnReason } }
  | { id: string, event: 'fire', data: { request: number, protocol?: StreamProtocol } }
  | { id: string, event: 'fault', data: { request: number, fault: Fault | StreamFault, protocol?: StreamProtocol } }
  | { id: string, event: 'gdpr', data: { request: number, entry: number, term: string, protocol?: StreamProtocol } }
  | { id: string, event: 'alert', data: Alert }
  | { id: string, event: 'balloon', data: { balloon: string, inflating: boolean, seconds: number } }
  | { id: string, event: 'replaced', data: { peer: string, from: number, to: number } }
  | { id: string, event: 'scenario', data: { name: string, step: number, of: number, description: string } }
  | { id: string, event: 'chaos', data: { output: string, rule: string, alert: number, action: 'scenario' | 'burn', scenario?: string } }

/** Every event a viewer may receive, by its name on the stream: the type above makes this list complete. */
export const FEED_EVENTS: Record<FeedEvent['event'], string> = {
  block: 'a block appended, exactly as in the chain',
  burn: 'the chain burned: `{"burned", "reason"}`, how many blocks were lost and why (`random`, `memory budget`, `admin`, `replaced`, `scenario` or `alert`)',
  fire: 'a request was answered 503, lp0 on fire, or a stream message dropped for it: `{"request", "protocol"?}`',
  fault: 'a request met a fault below the status line (delay, slow-read, slow-response, hang, reset, reset-after-append, close, garbage or status), or a stream message one on its connection (reset, reset-after-append, close, stall, slow-read, hang, nak, ack-loss or ack-wrong): `{"request", "fault", "protocol"?}`',
  gdpr: 'a request was refused with 451, or a stream message dropped for it: `{"request", "entry", "term", "protocol"?}`, the term matched and never the line',
  alert: 'an alert rule matched: `{"rule", "severity", "description", "block", "count", "digest"}`, with `group` for a frequency rule\'s `groupBy`, and `resolves` on a flatline\'s resolve',
  balloon: 'a balloon started or stopped inflating: `{"balloon", "inflating", "seconds"}`',
  scenario: 'a scenario moved to a step (1-based), or ended (step 0): `{"name", "step", "of", "description"}`',
  chaos: 'an alert\'s chaos output acted on logfire, started a scenario or burned the chain: `{"output", "rule", "alert", "action", "scenario"?}`',
  replaced: 'a naivechain peer\'s longer chain was adopted (LOGFIRE_P2P_ACCEPT=longest), right after a burn with reason replaced: `{"peer", "from", "to"}`'
}

/** The part of the store a feed reads. */
export interface ChainView {
  readonly epoch: number
  readonly length: number
  textAt (index: number): Buffer | undefined
  bytesFrom (index: number): number
  indexWithin (bytes: number): number
}

// Events that are not blocks wait in the feed, each pinned to the chain
// position it happened at, so a viewer always sees them in order.
type Marker =
  | { kind: 'moment', epoch: number, length: number, event: 'fire' | 'fault' | 'gdpr' | 'alert' | 'balloon' | 'replaced' | 'scenario' | 'chaos', data: FeedEvent['data'] }
  | { kind: 'burn', epoch: number, burned: number, reason: BurnReason }

/**
 * Event ids are chain positions, "<epoch>-<index>": resuming from one means
 * "send the blocks after that index, or the burn that ended that epoch".
 */
export function eventId (epoch: number, index: number): string {
  return `${epoch}-${index}`
}

export function parseEventId (id: string | undefined): { epoch: number, index: number } | undefined {
  const match = /^(\d{1,9})-(\d{1,9})$/.exec(id ?? '')
  return match === null ? undefined : { epoch: Number(match[1]), index: Number(match[2]) }
}

/**
 * One viewer's cursor into the chain. Blocks are read from the store when
 * they are due rather than copied per viewer, so a slow viewer costs a few
 * numbers, not a copy of the chain; a burn it has not caught up with yet
 * simply means the rest of its epoch is gone.
 */
export class Feed {
  #epoch: number
  #next: number
  #markers: Marker[] = []
  readonly #chain: ChainView
  readonly #maxMarkers: number

  /**
   * @param lastEventId where the viewer left off, if it is coming back
   * @param backlog how many recent blocks a new viewer is shown
   * @param maxLagBytes how far behind the head a viewer may be: one that
   *   comes back further behind starts again from the recent blocks
   */
  constructor (chain: ChainView, options: { lastEventId?: string | undefined, backlog: number, maxLagBytes?: number, lastBurn?: BurnEvent | undefined, maxMarkers?: number }) {
    this.#chain = chain
    this.#maxMarkers = options.maxMarkers ?? 1000
    this.#epoch = chain.epoch
    // Genesis is never news: feeds start at index 1 at the earliest. Half
    // the lag allowed, so that a viewer of long lines is not born dropped.
    const maxLagBytes = options.maxLagBytes ?? Infinity
    const recent = Math.max(1, chain.length - options.backlog, chain.indexWithin(maxLagBytes / 2))
    this.#next = recent

    const resumeFrom = parseEventId(options.lastEventId)
    if (resumeFrom === undefined) return
    if (resumeFrom.epoch === chain.epoch && resumeFrom.index < chain.length) {
      this.#next = chain.bytesFrom(resumeFrom.index + 1) > maxLagBytes ? recent : resumeFrom.index + 1
    } else if (resumeFrom.epoch < chain.epoch) {
      // The viewer's chain burned while it was away: it gets the burn, then the whole new chain.
      const burn = options.lastBurn
      this.#epoch = chain.epoch - 1
      this.#next = 1
      this.#markers.push({ kind: 'burn', epoch: chain.epoch - 1, burned: burn?.burned ?? 0, reason: burn?.reason ?? 'random' })
    }
  }

  /**
   * Records an event as it happens. Returns false when the viewer has fallen
   * so far behind that it should be dropped (it can resume with Last-Event-ID).
   */
  record (event: ChainEvent): boolean {
    switch (event.type) {
      case 'append':
        return true
      case 'burn':
        this.#markers.push({ kind: 'burn', epoch: event.epoch - 1, burned: event.burned, reason: event.reason })
        break
      case 'fire':
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'fire', data: { request: event.request, ...(event.protocol === undefined ? {} : { protocol: event.protocol }) } })
        break
      case 'fault':
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'fault', data: { request: event.request, fault: event.fault, ...(event.protocol === undefined ? {} : { protocol: event.protocol }) } })
        break
      case 'gdpr':
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'gdpr', data: { request: event.request, entry: event.entry, term: event.term, ...(event.protocol === undefined ? {} : { protocol: event.protocol }) } })
        break
      case 'alert':
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'alert', data: event.alert })
        break
      case 'balloon':
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'balloon', data: { balloon: event.balloon, inflating: event.inflating, seconds: event.seconds } })
        break
      case 'scenario':
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'scenario', data: { name: event.name, step: event.step, of: event.of, description: event.description } })
        break
      case 'chaos': {
        const { type: _type, ...data } = event
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'chaos', data })
        break
      }
      case 'replaced':
        this.#markers.push({ kind: 'moment', epoch: this.#chain.epoch, length: this.#chain.length, event: 'replaced', data: { peer: event.peer, from: event.from, to: event.to } })
        break
      default:
        return true
    }
    return this.#markers.length <= this.#maxMarkers
  }

  /**
   * Bytes of the chain before block `upTo` that this viewer has yet to be
   * sent: measured before an append's own blocks, a viewer that keeps up is
   * never behind, however big the batch.
   */
  lagBytes (upTo = this.#chain.length): number {
    if (this.#epoch !== this.#chain.epoch || this.#next >= upTo) return 0
    return this.#chain.bytesFrom(this.#next) - this.#chain.bytesFrom(upTo)
  }

  /** The next event this viewer should see, or undefined when it is up to date. */
  next (): FeedEvent | undefined {
    const marker = this.#markers[0]
    if (this.#epoch === this.#chain.epoch) {
      const due = marker?.kind === 'moment' ? marker.length : this.#chain.length
      if (this.#next < due) {
        const index = this.#next++
        return this.#blockEvent(index, this.#chain.textAt(index) as Buffer)
      }
    }
    if (marker === undefined) return undefined
    this.#markers.shift()
    if (marker.kind === 'moment') {
      return { id: eventId(marker.epoch, marker.length - 1), event: marker.event, data: marker.data } as FeedEvent
    }
    this.#epoch = marker.epoch + 1
    this.#next = 1
    return { id: eventId(this.#epoch, 0), event: 'burn', data: { burned: marker.burned, reason: marker.reason } }
  }

  /**
   * The block as the store holds it: `text` is a view of the store's
   * memory, which a burn reuses, so it is for use at once (the stream frames
   * it once for every viewer, never parsing it); `data` parses it.
   */
  #blockEvent (index: number, text: Buffer): FeedEvent {
    return {
      id: eventId(this.#epoch, index),
      event: 'block',
      text,
      get data () { return JSON.parse(text.toString('utf8')) as Block }
    }
  }
}
