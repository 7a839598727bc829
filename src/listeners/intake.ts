import type { AppendOutcome } from '../chain/backend.js'
import { rollStreamFate, type StreamFate, type StreamFault, type StreamProtocol } from '../fire/stream-faults.js'
import type { Fire } from '../fires/fire.js'
import type { Fires } from '../fires/fires.js'
import { findEuMentionInEntries } from '../gdpr/detect.js'
import { canaryLinesByRun } from '../scorecard/token.js'
import { fireTokenOf } from './fire-token.js'

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
  /** The public fire takes every message; in open mode, a message carrying a fire's ingest token goes to that fire. */
  fires: Fires
  log: StreamLog
}

/** A message's number and fate, in the fire it goes to. */
export interface Numbered { request: number, fate: StreamFate, fire: Fire }

/** A message on its way: the fire it goes to, and its entries as stored (a token taken out). */
export interface Routed { fire: Fire, entries: string[] }

// The protocols that carry syslog messages, which can carry a fire's token.
const SYSLOG: ReadonlySet<StreamProtocol> = new Set(['syslog-tcp', 'syslog-udp', 'syslog-tls', 'relp'])

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

  /**
   * The fire a message goes to. In open mode, a syslog message (over TCP,
   * UDP, TLS or RELP) carrying a fire's ingest token goes to that fire, the
   * token taken out; so does every message of a Forward connection whose
   * handshake named one (`token`). Undefined for a token that opens no fire
   * (unknown, gone out, not an ingest token): its message is refused, and
   * counted.
   */
  route (entries: string[], protocol: StreamProtocol, token?: string): Routed | undefined | Promise<Routed | undefined> {
    const { fires } = this.#options
    if (!fires.open) return { fire: fires.public, entries }
    let tokened = token === undefined ? undefined : { token, entries }
    if (tokened === undefined && SYSLOG.has(protocol) && entries.length === 1) {
      const found = fireTokenOf(entries[0] as string)
      if (found !== undefined) tokened = { token: found.token, entries: [found.message] }
    }
    if (tokened === undefined) return { fire: fires.public, entries }
    const stored = tokened.entries
    const access = fires.find(tokened.token)
    const routed = (opened: Awaited<typeof access>): Routed | undefined | Promise<Routed | undefined> => {
      if (opened === undefined || opened.scope !== 'ingest') {
        this.count(protocol, 'token-refused')
        return undefined
      }
      const { fire } = opened
      return fire instanceof Promise ? fire.then((kindled) => ({ fire: kindled, entries: stored })) : { fire, entries: stored }
    }
    return access instanceof Promise ? access.then(routed) : routed(access)
  }

  /** The message's number and fate in its fire: at once in memory, after a round trip on Redis. */
  number (protocol: StreamProtocol, fire: Fire): Numbered | Promise<Numbered> {
    const numbered = fire.chain.nextRequestNumber()
    return typeof numbered === 'number' ? this.#fate(numbered, protocol, fire) : numbered.then((request) => this.#fate(request, protocol, fire))
  }

  #fate (request: number, protocol: StreamProtocol, fire: Fire): Numbered | Promise<Numbered> {
    const { settings } = fire
    // The roll is drawn either way: a scenario shifts no later message's fate.
    const rolled = rollStreamFate(fire.draws(request), settings)
    const decided = fire.decideMessage({ protocol })
    if (decided instanceof Promise) return decided.then((fate) => ({ request, fate: fate ?? rolled, fire }))
    return { request, fate: decided ?? rolled, fire }
  }

  /** Why logfire refuses a message's entries before storing them, if it does: lp0, GDPR (any entry). Published, logged and counted. */
  refusal (entries: readonly string[], { request, fate, fire }: Numbered, protocol: StreamProtocol): 'lp0' | 'gdpr' | undefined {
    const { chain, settings } = fire
    const { log } = this.#options
    if (fate.fire) {
      chain.publish({ type: 'fire', request, protocol })
      log.debug({ fire: 'lp0', request, protocol }, 'lp0 on fire: stream message refused')
      this.refused(entries, request, protocol, 'lp0', fire)
      return 'lp0'
    }
    if (!settings.gdpr) return undefined
    const mention = findEuMentionInEntries(entries)
    if (mention === undefined) return undefined
    chain.publish({ type: 'gdpr', request, entry: mention.entry, term: mention.term, protocol })
    // The matched term is one of our own words; the rest of the line is not logged.
    log.debug({ gdpr: { term: mention.term.toLowerCase() }, request, protocol }, 'GDPR refusal: stream message refused')
    this.refused(entries, request, protocol, 'gdpr', fire)
    return 'gdpr'
  }

  /** A fault met on a connection: one log line, one event. */
  fault ({ request, fire }: Numbered, protocol: StreamProtocol, fault: StreamFault): void {
    this.#options.log.warn({ fault: { ...fault, request }, protocol }, 'stream fault injected')
    fire.chain.publish({ type: 'fault', request, fault, protocol })
  }

  /**
   * Appends the messages, or burns the chain instead (the roll, or the
   * budget): then none is stored, and each counts as burned. `request` is
   * the last message's number, for the burn's refusal.
   */
  append (texts: readonly string[], protocol: StreamProtocol, { request, fire }: Pick<Numbered, 'request' | 'fire'>, burn = false): MessageOutcome | Promise<MessageOutcome> {
    const outcome = fire.chain.append(texts, fire.clock(), burn)
    if (outcome instanceof Promise) return outcome.then((settled) => this.#appended(settled, texts, protocol, request, fire))
    return this.#appended(outcome, texts, protocol, request, fire)
  }

  #appended (outcome: AppendOutcome, texts: readonly string[], protocol: StreamProtocol, request: number, fire: Fire): MessageOutcome {
    if (outcome.appended) {
      this.count(protocol, 'stored', texts.length)
      return 'stored'
    }
    this.#options.log.warn({ burn: { reason: outcome.reason, burned: outcome.burned }, protocol }, 'chain burned')
    this.refused(texts, request, protocol, 'burn', fire)
    return 'burn'
  }

  /** Counted, and the canary lines among them scored as refused. */
  refused (texts: readonly string[], request: number, protocol: StreamProtocol, outcome: Exclude<MessageOutcome, 'stored'> | 'nak', fire: Fire): void {
    this.count(protocol, outcome, texts.length)
    const lines = canaryLinesByRun(texts)
    if (lines !== undefined) fire.chain.publish({ type: 'refused', request, status: REFUSAL_STATUS[outcome], lines })
  }

  count (protocol: StreamProtocol, what: string, by = 1): void {
    const key = `${protocol} ${what}`
    this.totals.set(key, (this.totals.get(key) ?? 0) + by)
  }
}
