import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HeldConnections } from '../fire/held.js'
import { CALM_STREAM, faultLabel, type StreamFault, type StreamProtocol } from '../fire/stream-faults.js'
import type { Answer, Reply, StreamCodec, Unit } from './codec.js'
import type { FramingError } from './framing.js'
import type { Fire } from '../fires/fire.js'
import type { MessageOutcome, Numbered, Routed, StreamIntake } from './intake.js'

/** Why a stream connection ended. */
export type Ending = 'client' | 'client-reset' | 'reset' | 'reset-after-append' | 'close' | 'stall, reset' | 'hang' | 'idle' | 'frame-too-long' | 'bad-octet-count' | 'bad-frame' | 'refused' | 'unauthenticated' | 'shutdown' | 'store-unavailable'

type Entries = Extract<Unit, { kind: 'entries' }>

/** One connection's counts, as only the sink can see them: GET /streams. */
export interface ConnectionReport {
  id: number
  protocol: StreamProtocol
  remote: string
  openedAt: number
  closedAt: number | undefined
  bytesRead: number
  /** Whole messages framed: syslog messages, RELP syslog frames. */
  messages: number
  /** Entries stored. */
  stored: number
  /** Entries refused by logfire: lp0 on fire, GDPR, burned; on an acked protocol, refused by a fault (nak); a fire's token that opens no fire (token). */
  refused: { lp0: number, gdpr: number, burn: number, nak: number, token: number }
  /** On an acked protocol: entries stored whose acknowledgement was withheld (ack-loss) or cut off (reset-after-append). */
  unacknowledged: number
  faults: Record<string, number>
  /** Whole messages read but never stored: the connection was cut before their turn. */
  discarded: number
  /** Bytes of an unfinished frame when the connection ended: never stored as if whole. */
  cutBytes: number
  endedBy: Ending | undefined
}

export interface ConnectionContext {
  intake: StreamIntake
  held: HeldConnections
  clock: () => number
  /** Idle connections are closed after this long. */
  idleMs: number
  /** The connection ended: for the listener's books. */
  ended: (connection: StreamConnection) => void
}

// How often a slowed connection gets its next share of bytes.
const SLOW_TICK_MS = 100

/**
 * One stream connection: its bytes made into units by its protocol's codec,
 * each unit numbered and met by its fate, in order. Calm units that arrive
 * together are appended together, and their answers (on an acked protocol)
 * sent together once they are stored. While a unit waits (a stall, a round
 * trip to Redis), nothing more is read: the kernel's buffers fill, and the
 * shipper feels it as a real sink's back-pressure.
 */
export class StreamConnection {
  readonly report: ConnectionReport
  readonly #socket: Socket
  readonly #codec: StreamCodec
  readonly #context: ConnectionContext
  readonly #protocol: StreamProtocol
  #batch: string[] = []
  // The answers of the batch's units, sent once the batch is stored; undefined for a unit whose answer is withheld.
  #batchAnswers: Array<((answer: Answer) => Reply) | undefined> = []
  // A reply that ends the session (Forward's way of saying no): sent, then the connection closes.
  #closing = false
  #outbox: Buffer[] = []
  // The fire a Forward handshake named, by its token: looked up for each message, which keeps the fire alight.
  #fireToken: string | undefined
  // The batch's fire, and its last message's number: a batch is one fire's.
  #batchFire: Fire | undefined
  #lastNumber = 0
  #busy = false
  // Waiting for the client to read the answers already sent.
  #blocked = false
  #clientEnded = false
  #slow: { until: number, bytesPerSecond: number, budget: number, timer: NodeJS.Timeout | undefined, release: () => void } | undefined
  #holds = new Set<() => void>()

  constructor (socket: Socket, protocol: StreamProtocol, codec: StreamCodec, context: ConnectionContext, id: number) {
    this.#socket = socket
    this.#codec = codec
    this.#context = context
    this.#protocol = protocol
    this.report = {
      id,
      protocol,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      openedAt: context.clock(),
      closedAt: undefined,
      bytesRead: 0,
      messages: 0,
      stored: 0,
      refused: { lp0: 0, gdpr: 0, burn: 0, nak: 0, token: 0 },
      unacknowledged: 0,
      faults: {},
      discarded: 0,
      cutBytes: 0,
      endedBy: undefined
    }
    socket.setNoDelay(true)
    if (codec.greeting !== undefined) socket.write(codec.greeting)
    socket.setTimeout(context.idleMs, () => { if (this.#holds.size === 0) this.#end('idle', 'close') })
    socket.on('data', (chunk: Buffer) => { this.#read(chunk) })
    socket.on('end', () => {
      this.#clientEnded = true
      this.#drain()
    })
    // A client's reset: what it had sent and we had not framed is cut.
    socket.on('error', () => { this.#end('client-reset') })
    socket.on('close', () => { this.#end('client-reset') })
  }

  get ended (): boolean { return this.report.endedBy !== undefined }

  /** The server is closing: cut now. */
  shutdown (): void {
    this.#end('shutdown', 'destroy')
  }

  #read (chunk: Buffer): void {
    if (this.ended) return
    const slow = this.#slow
    if (slow !== undefined) {
      if (this.#context.clock() >= slow.until) {
        this.#stopSlow()
      } else if (chunk.length > slow.budget) {
        // The rest waits in the socket for the next tick's share.
        this.#socket.pause()
        this.#socket.unshift(chunk.subarray(slow.budget))
        chunk = chunk.subarray(0, slow.budget)
        slow.budget = 0
        slow.timer ??= setTimeout(() => { this.#tick() }, SLOW_TICK_MS)
      } else {
        slow.budget -= chunk.length
      }
    }
    this.report.bytesRead += chunk.length
    this.#codec.push(chunk)
    this.#drain()
  }

  #tick (): void {
    const slow = this.#slow
    if (slow === undefined) return
    slow.timer = undefined
    slow.budget = Math.max(1, Math.floor(slow.bytesPerSecond * SLOW_TICK_MS / 1000))
    if (!this.#busy && !this.#blocked && !this.ended) this.#socket.resume()
  }

  #stopSlow (): void {
    if (this.#slow === undefined) return
    clearTimeout(this.#slow.timer)
    this.#slow.release()
    this.#slow = undefined
  }

  /** Every whole unit buffered, in order, until one has to wait. */
  #drain (): void {
    while (!this.#busy && !this.#blocked && !this.ended) {
      const unit = this.#codec.next()
      if (unit === undefined) break
      if ('problem' in unit) {
        this.#unframeable(unit)
        return
      }
      const waiting = unit.kind === 'control' ? this.#control(unit) : this.#entries(unit)
      if (waiting !== undefined) this.#wait(waiting)
    }
    if (this.#busy || this.#blocked || this.ended) return
    const flushed = this.#flush()
    if (flushed !== undefined) {
      this.#wait(flushed)
      return
    }
    if (this.#clientEnded) this.#end('client')
  }

  #entries (unit: Entries): Promise<unknown> | undefined {
    this.report.messages += 1
    const routed = this.#context.intake.route(unit.entries, this.#protocol, this.#fireToken)
    return routed instanceof Promise
      ? routed.then((settled) => this.#routed(unit, settled))
      : this.#routed(unit, routed)
  }

  /** Numbered in its fire, then met by its fate; dropped (RELP: answered 500) when its token opens no fire. */
  #routed (unit: Entries, routed: Routed | undefined): Promise<unknown> | undefined {
    if (routed === undefined) {
      this.report.refused.token += unit.entries.length
      return this.#then(this.#flush(), () => { this.#answer(unit, 'token') })
    }
    const message = routed.entries === unit.entries ? unit : { ...unit, entries: routed.entries }
    const numbered = this.#context.intake.number(this.#protocol, routed.fire)
    return numbered instanceof Promise
      ? numbered.then((settled) => this.#meet(message, settled))
      : this.#meet(message, numbered)
  }

  /** A frame of the protocol's own (RELP's open and close, Forward's PING): answered in turn, after what came before it. */
  #control (unit: Extract<Unit, { kind: 'control' }>): Promise<unknown> | undefined {
    const answer = (reply = unit.reply, end = unit.end): void => {
      if (reply !== undefined) this.#outbox.push(reply)
      this.#send()
      if (end !== undefined) this.#end(end, 'close')
    }
    const { fireToken } = unit
    // A Forward client naming its fire: the PONG says whether its token opens one, and the fire is the connection's.
    const named = (routed: Routed | undefined): void => {
      if (fireToken === undefined) return
      if (routed === undefined) {
        answer(fireToken.refused, 'unauthenticated')
        return
      }
      this.#fireToken = fireToken.token
      answer()
    }
    const respond = (): Promise<unknown> | undefined => {
      if (fireToken === undefined) {
        answer()
        return undefined
      }
      const routed = this.#context.intake.route([], this.#protocol, fireToken.token)
      if (routed instanceof Promise) return routed.then(named)
      named(routed)
      return undefined
    }
    const flushed = this.#flush()
    return flushed === undefined ? respond() : flushed.then(respond)
  }

  /** Queues a reply in turn. */
  #reply (reply: Reply): void {
    if (reply.bytes !== undefined) this.#outbox.push(reply.bytes)
    if (reply.close === true) this.#closing = true
  }

  /** Writes the answers ready, in order, in one write; then ends the session if one of them said so. */
  #send (): void {
    if (this.ended) return
    if (this.#outbox.length > 0) {
      const ready = this.#outbox.length === 1 ? this.#outbox[0] as Buffer : Buffer.concat(this.#outbox)
      this.#outbox = []
      // A client that does not read its answers (RELP's rsp, Forward's acks) is read no further until it does: the answers never pile up here.
      if (!this.#socket.write(ready) && !this.#blocked) {
        this.#blocked = true
        this.#socket.pause()
        this.#socket.once('drain', () => {
          this.#blocked = false
          if (this.#busy || this.ended) return
          this.#socket.resume()
          this.#drain()
        })
      }
    }
    if (this.#closing) this.#end('refused', 'close')
  }

  /** Stops reading until `work` is done, then goes on. */
  #wait (work: Promise<unknown>): void {
    this.#busy = true
    this.#socket.pause()
    work.then(() => {
      this.#busy = false
      if (this.ended || this.#blocked) return
      if (this.#slow === undefined || this.#slow.budget > 0) this.#socket.resume()
      this.#drain()
    }, () => {
      // The shared store went away mid-append: nothing more is taken on this connection.
      this.#busy = false
      this.#end('store-unavailable', 'reset')
    })
  }

  /** The unit meets its fate: at once when it is calm, through a promise when it has to wait. */
  #meet (unit: Entries, numbered: Numbered): Promise<unknown> | undefined {
    const { fate } = numbered
    if (fate === CALM_STREAM) return this.#settle(unit, numbered)
    const fault = fate.fault
    if (fault === undefined || fault.name === 'slow-read') {
      if (fault !== undefined) this.#startSlow(numbered, fault)
      return this.#settle(unit, numbered)
    }
    // Everything before it is stored and answered first: a fault meets this unit, not the ones before.
    const flushed = this.#flush()
    if (flushed !== undefined) return flushed.then(() => this.#fault(unit, numbered, fault))
    return this.#fault(unit, numbered, fault)
  }

  #fault (unit: Entries, numbered: Numbered, fault: Exclude<StreamFault, { name: 'slow-read' }>): Promise<unknown> | undefined {
    if (this.ended) return undefined
    const { intake } = this.#context
    intake.fault(numbered, this.#protocol, fault)
    const label = faultLabel(fault)
    this.report.faults[label] = (this.report.faults[label] ?? 0) + 1
    switch (fault.name) {
      case 'reset':
        this.#end('reset', 'reset', 1)
        return undefined
      case 'close':
        if (this.#codec.goodbye !== undefined) this.#socket.write(this.#codec.goodbye)
        this.#end('close', 'close', 1)
        return undefined
      case 'reset-after-append':
        // Stored, and its answer never sent: the RST comes first.
        return this.#then(this.#settle(unit, numbered, false), () => this.#then(this.#flush(), () => { this.#end('reset-after-append', 'reset') }))
      case 'nak':
        // Nothing stored; on a plain stream, nothing to say either: the message is simply dropped.
        this.report.refused.nak += unit.entries.length
        this.#context.intake.refused(unit.entries, numbered.request, this.#protocol, 'nak', numbered.fire)
        this.#answer(unit, 'nak')
        return undefined
      case 'ack-loss':
        return this.#settle(unit, numbered, false)
      case 'ack-wrong': {
        const { answer } = unit
        return this.#settle(answer === undefined ? unit : { ...unit, answer: (outcome) => answer(outcome === 'stored' ? 'wrong-ack' : outcome) }, numbered)
      }
      case 'stall':
      case 'hang':
        return this.#hold(fault.ms, numbered.fire).then((waited) => {
          if (this.ended) return
          if (!waited) {
            // The held-connection limit is reached: the unit goes on as if calm.
            return this.#settle(unit, numbered)
          }
          if (fault.name === 'hang') this.#end('hang', 'destroy', 1)
          else if (fault.reset) this.#end('stall, reset', 'reset', 1)
          else return this.#settle(unit, numbered)
        })
    }
  }

  #then (first: Promise<unknown> | undefined, next: () => Promise<unknown> | undefined | void): Promise<unknown> | undefined {
    if (first === undefined) return next() ?? undefined
    return first.then(next)
  }

  /**
   * The unit after its fault: refused, burned, or into the batch. With
   * `answered` false it is stored without an answer, ever.
   */
  #settle (unit: Entries, numbered: Numbered, answered = true): Promise<unknown> | undefined {
    const { intake } = this.#context
    const refusal = intake.refusal(unit.entries, numbered, this.#protocol)
    if (refusal !== undefined) {
      this.report.refused[refusal] += unit.entries.length
      return this.#then(this.#flush(), () => { this.#answer(unit, refusal) })
    }
    if (numbered.fate.burn) {
      const burn = () => this.#then(this.#counted(intake.append(unit.entries, this.#protocol, numbered, true), unit.entries.length), () => { this.#answer(unit, 'burn') })
      return this.#then(this.#flush(), burn)
    }
    const batched = () => {
      this.#batch.push(...unit.entries)
      this.#batchAnswers.push(answered ? unit.answer : undefined)
      if (!answered && unit.answer !== undefined) this.report.unacknowledged += unit.entries.length
      this.#batchFire = numbered.fire
      this.#lastNumber = numbered.request
    }
    // Another fire's message: the batch so far is stored in its own fire first.
    if (this.#batchFire !== undefined && this.#batchFire !== numbered.fire) return this.#then(this.#flush(), batched)
    batched()
    return undefined
  }

  /** A unit's answer, in turn, when its protocol has one. */
  #answer (unit: Entries, answer: Answer): void {
    if (unit.answer === undefined) return
    this.#reply(unit.answer(answer))
    this.#send()
  }

  /** Appends the batch, then sends its answers; a promise only while the store answers later. */
  #flush (): Promise<unknown> | undefined {
    if (this.#batch.length === 0) return undefined
    const batch = this.#batch
    const answers = this.#batchAnswers
    this.#batch = []
    this.#batchAnswers = []
    const answer = (outcome: MessageOutcome): void => {
      for (const build of answers) if (build !== undefined) this.#reply(build(outcome))
      this.#send()
    }
    const outcome = this.#context.intake.append(batch, this.#protocol, { request: this.#lastNumber, fire: this.#batchFire as Fire })
    return this.#counted(outcome, batch.length, answer)
  }

  #counted (outcome: MessageOutcome | Promise<MessageOutcome>, count: number, then?: (outcome: MessageOutcome) => void): Promise<unknown> | undefined {
    const tally = (settled: MessageOutcome): void => {
      if (settled === 'stored') this.report.stored += count
      else this.report.refused[settled] += count
      then?.(settled)
    }
    if (outcome instanceof Promise) return outcome.then(tally)
    tally(outcome)
    return undefined
  }

  /** Stops reading for `ms`, holding the connection within the fire's share; false when the held-connection limit refuses. */
  async #hold (ms: number, fire: Fire): Promise<boolean> {
    const held = this.#context.held.hold(this.#socket, fire.id)
    if (held === undefined) return false
    this.#holds.add(held.release)
    this.#socket.pause()
    try {
      await sleep(ms, undefined, { signal: held.signal })
    } catch {
      // The server ended every held connection, or the client left.
    } finally {
      this.#holds.delete(held.release)
      held.release()
    }
    return true
  }

  #startSlow (numbered: Numbered, fault: Extract<StreamFault, { name: 'slow-read' }>): void {
    this.#context.intake.fault(numbered, this.#protocol, fault)
    this.report.faults['slow-read'] = (this.report.faults['slow-read'] ?? 0) + 1
    if (this.#slow !== undefined) return
    const held = this.#context.held.hold(this.#socket, numbered.fire.id)
    if (held === undefined) return
    this.#slow = { until: this.#context.clock() + fault.forMs, bytesPerSecond: fault.bytesPerSecond, budget: 0, timer: undefined, release: held.release }
    this.#slow.timer = setTimeout(() => { this.#tick() }, SLOW_TICK_MS)
  }

  #unframeable (error: FramingError): void {
    this.#context.intake.log.warn({ protocol: this.#protocol, remote: this.report.remote, problem: error.problem, ...(error.problem === 'frame-too-long' ? { bytes: error.bytes } : {}) }, 'stream connection closed: its bytes cannot be framed')
    const flushed = this.#flush()
    const end = () => { this.#end(error.problem, 'close') }
    if (flushed === undefined) end()
    else flushed.then(end, end)
  }

  /**
   * Ends the connection once: `how` it is cut (a RST, a FIN, or at once),
   * with `skipped` messages of the batch's tail never stored. What is left
   * in the framer is counted: whole messages discarded, a partial one cut.
   */
  #end (reason: Ending, how: 'reset' | 'close' | 'destroy' | 'none' = 'none', skipped = 0): void {
    if (this.ended) return
    const report = this.report
    report.endedBy = reason
    report.closedAt = this.#context.clock()
    this.#stopSlow()
    for (const release of this.#holds) release()
    report.discarded += skipped
    for (let unit = this.#codec.next(); unit !== undefined && !('problem' in unit); unit = this.#codec.next()) {
      if (unit.kind === 'entries') report.discarded += 1
    }
    report.cutBytes = this.#codec.buffered
    const socket = this.#socket
    socket.pause()
    if (how === 'reset') socket.resetAndDestroy()
    else if (how === 'close') socket.end(() => { socket.destroy() })
    else if (how === 'destroy') socket.destroy()
    else if (!socket.destroyed) socket.destroy()
    this.#context.ended(this)
  }
}
