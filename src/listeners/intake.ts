import type { AppendOutcome } from '../chain/backend.js'
import { rollStreamFate, type StreamFate, type StreamFault, type StreamProtocol } from '../fire/stream-faults.js'
import type { Fire } from '../fires/fire.js'
import { findEuMentionInEntries } from '../gdpr/detect.js'
import { canaryLinesByRun } from '../scorecard/token.js'

/** What became of one stream message's entries. */
export type MessageOutcome = 'stored' | 'lp0' | 'gdpr' | 'burn'

/** The status a refused HTTP request would have had: the scorecard counts refused lines by it; a nak as a 500. */
const REFUSAL_STATUS = { lp0: 503, gdpr: 451, burn: 410, nak: 500 } as const

/** A logger as pino gives one: what the listeners log is never a message's content. */
export interface StreamLog {
  warn: (fields: object, message: string) => void
  info: (fields: object, message: string) => void
  debug: (fields: object, message: string) => void
}

export interface IntakeOptions {
  /** The fire stream messages go to: numbered, rolled and appended as its requests are. */
  fire: Fire
  log: StreamLog
}

export interface Numbered { request: number, fate: StreamFate }

/**
 * Where every stream message meets the fire, whatever carried it: it is
 * numbered and its fate rolled as a one-line POST's is; lp0 and GDPR drop
 * it (a plain stream has no way to say no), the burn burns, and the rest is
 * appended, several at a time when they come together.
 */
export class StreamIntake {
  readonly #options: IntakeOptions
  /** Messages by protocol and outcome, ever: for /metrics. */
  readonly totals = new Map<string, number>()

  constructor (options: IntakeOptions) {
    this.#options = options
  }

  get log (): StreamLog { return this.#options.log }

  /** The fire the streams feed: its faults hold connections within its share. */
  get fireId (): string { return this.#options.fire.id }

  /** The message's number and fate: at once in memory, after a round trip on Redis. */
  number (protocol: StreamProtocol): Numbered | Promise<Numbered> {
    const numbered = this.#options.fire.chain.nextRequestNumber()
    return typeof numbered === 'number' ? this.#fate(numbered, protocol) : numbered.then((request) => this.#fate(request, protocol))
  }

  #fate (request: number, protocol: StreamProtocol): Numbered | Promise<Numbered> {
    const { settings } = this.#options.fire
    // The roll is drawn either way: a scenario shifts no later message's fate.
    const rolled = rollStreamFate(this.#options.fire.draws(request), settings)
    const decided = this.#options.fire.decideMessage({ protocol })
    if (decided instanceof Promise) return decided.then((fate) => ({ request, fate: fate ?? rolled }))
    return { request, fate: decided ?? rolled }
  }

  /** Why logfire refuses a message's entries before storing them, if it does: lp0, GDPR (any entry). Published, logged and counted. */
  refusal (entries: readonly string[], { request, fate }: Numbered, protocol: StreamProtocol): 'lp0' | 'gdpr' | undefined {
    const { chain, settings } = this.#options.fire
    const { log } = this.#options
    if (fate.fire) {
      chain.publish({ type: 'fire', request, protocol })
      log.debug({ fire: 'lp0', request, protocol }, 'lp0 on fire: stream message refused')
      this.refused(entries, request, protocol, 'lp0')
      return 'lp0'
    }
    if (!settings.gdpr) return undefined
    const mention = findEuMentionInEntries(entries)
    if (mention === undefined) return undefined
    chain.publish({ type: 'gdpr', request, entry: mention.entry, term: mention.term, protocol })
    // The matched term is one of our own words; the rest of the line is not logged.
    log.debug({ gdpr: { term: mention.term.toLowerCase() }, request, protocol }, 'GDPR refusal: stream message refused')
    this.refused(entries, request, protocol, 'gdpr')
    return 'gdpr'
  }

  /** A fault met on a connection: one log line, one event. */
  fault (request: number, protocol: StreamProtocol, fault: StreamFault): void {
    this.#options.log.warn({ fault: { ...fault, request }, protocol }, 'stream fault injected')
    this.#options.fire.chain.publish({ type: 'fault', request, fault, protocol })
  }

  /**
   * Appends the messages, or burns the chain instead (the roll, or the
   * budget): then none is stored, and each counts as burned. `request` is
   * the last message's number, for the burn's refusal.
   */
  append (texts: readonly string[], protocol: StreamProtocol, request: number, burn = false): MessageOutcome | Promise<MessageOutcome> {
    const outcome = this.#options.fire.chain.append(texts, this.#options.fire.clock(), burn)
    if (outcome instanceof Promise) return outcome.then((settled) => this.#appended(settled, texts, protocol, request))
    return this.#appended(outcome, texts, protocol, request)
  }

  #appended (outcome: AppendOutcome, texts: readonly string[], protocol: StreamProtocol, request: number): MessageOutcome {
    if (outcome.appended) {
      this.count(protocol, 'stored', texts.length)
      return 'stored'
    }
    this.#options.log.warn({ burn: { reason: outcome.reason, burned: outcome.burned }, protocol }, 'chain burned')
    this.refused(texts, request, protocol, 'burn')
    return 'burn'
  }

  /** Counted, and the canary lines among them scored as refused. */
  refused (texts: readonly string[], request: number, protocol: StreamProtocol, outcome: Exclude<MessageOutcome, 'stored'> | 'nak'): void {
    this.count(protocol, outcome, texts.length)
    const lines = canaryLinesByRun(texts)
    if (lines !== undefined) this.#options.fire.chain.publish({ type: 'refused', request, status: REFUSAL_STATUS[outcome], lines })
  }

  count (protocol: StreamProtocol, what: string, by = 1): void {
    const key = `${protocol} ${what}`
    this.totals.set(key, (this.totals.get(key) ?? 0) + by)
  }
}
