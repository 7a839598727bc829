import type { Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import type { HeldConnections } from '../fire/held.js'
import { CALM_STREAM, faultLabel, type StreamFault, type StreamProtocol } from '../fire/stream-faults.js'
import type { FramingError, SyslogFramer } from './framing.js'
import type { MessageOutcome, Numbered, StreamIntake } from './intake.js'

/** Why a stream connection ended. */
export type Ending = 'client' | 'client-reset' | 'reset' | 'reset-after-append' | 'close' | 'stall, reset' | 'hang' | 'idle' | 'frame-too-long' | 'bad-octet-count' | 'shutdown' | 'store-unavailable'

/** One connection's counts, as only the sink can see them: GET /streams. */
export interface ConnectionReport {
  id: number
  protocol: StreamProtocol
  remote: string
  openedAt: number
  closedAt: number | undefined
  bytesRead: number
  /** Whole messages framed. */
  messages: number
  stored: number
  /** Dropped by logfire: lp0 on fire, GDPR, burned. */
  refused: { lp0: number, gdpr: number, burn: number }
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
 * One stream connection: its bytes framed into messages, each message
 * numbered and met by its fate, in order. Calm messages that arrive together
 * are appended together. While a message waits (a stall, a round trip to
 * Redis), nothing more is read: the kernel's buffers fill, and the shipper
 * feels it as a real sink's back-pressure.
 */
export class StreamConnection {
  readonly report: ConnectionReport
  readonly #socket: Socket
  readonly #framer: SyslogFramer
  readonly #context: ConnectionContext
  readonly #protocol: StreamProtocol
  #batch: string[] = []
  #lastNumber = 0
  #busy = false
  #clientEnded = false
  #slow: { until: number, bytesPerSecond: number, budget: number, timer: NodeJS.Timeout | undefined, release: () => void } | undefined
  #holds = new Set<() => void>()

  constructor (socket: Socket, protocol: StreamProtocol, framer: SyslogFramer, context: ConnectionContext, id: number) {
    this.#socket = socket
    this.#framer = framer
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
      refused: { lp0: 0, gdpr: 0, burn: 0 },
      faults: {},
      discarded: 0,
      cutBytes: 0,
      endedBy: undefined
    }
    socket.setNoDelay(true)
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
    this.#framer.push(chunk)
    this.#drain()
  }

  #tick (): void {
    const slow = this.#slow
    if (slow === undefined) return
    slow.timer = undefined
    slow.budget = Math.max(1, Math.floor(slow.bytesPerSecond * SLOW_TICK_MS / 1000))
    if (!this.#busy && !this.ended) this.#socket.resume()
  }

  #stopSlow (): void {
    if (this.#slow === undefined) return
    clearTimeout(this.#slow.timer)
    this.#slow.release()
    this.#slow = undefined
  }

  /** Every whole message buffered, in order, until one has to wait. */
  #drain (): void {
    while (!this.#busy && !this.ended) {
      const frame = this.#framer.next()
      if (frame === undefined) break
      if (!Buffer.isBuffer(frame)) {
        this.#unframeable(frame)
        return
      }
      this.report.messages += 1
      const text = frame.toString('utf8')
      const numbered = this.#context.intake.number(this.#protocol)
      const waiting = numbered instanceof Promise
        ? numbered.then((settled) => this.#meet(text, settled))
        : this.#meet(text, numbered)
      if (waiting !== undefined) this.#wait(waiting)
    }
    if (this.#busy || this.ended) return
    const flushed = this.#flush()
    if (flushed !== undefined) {
      this.#wait(flushed)
      return
    }
    if (this.#clientEnded) this.#end('client')
  }

  /** Stops reading until `work` is done, then goes on. */
  #wait (work: Promise<unknown>): void {
    this.#busy = true
    this.#socket.pause()
    work.then(() => {
      this.#busy = false
      if (this.ended) return
      if (this.#slow === undefined || this.#slow.budget > 0) this.#socket.resume()
      this.#drain()
    }, () => {
      // The shared store went away mid-append: nothing more is taken on this connection.
      this.#busy = false
      this.#end('store-unavailable', 'reset')
    })
  }

  /** The message meets its fate: at once when it is calm, through a promise when it has to wait. */
  #meet (text: string, numbered: Numbered): Promise<unknown> | undefined {
    const { fate } = numbered
    if (fate === CALM_STREAM) return this.#settle(text, numbered)
    const fault = fate.fault
    if (fault === undefined || fault.name === 'slow-read') {
      if (fault !== undefined) this.#startSlow(numbered.request, fault)
      return this.#settle(text, numbered)
    }
    // Everything before it is stored first: a fault meets this message, not the ones before.
    const flushed = this.#flush()
    if (flushed !== undefined) return flushed.then(() => this.#fault(text, numbered, fault))
    return this.#fault(text, numbered, fault)
  }

  #fault (text: string, numbered: Numbered, fault: Exclude<StreamFault, { name: 'slow-read' }>): Promise<unknown> | undefined {
    if (this.ended) return undefined
    const { intake } = this.#context
    intake.fault(numbered.request, this.#protocol, fault)
    const label = faultLabel(fault)
    this.report.faults[label] = (this.report.faults[label] ?? 0) + 1
    switch (fault.name) {
      case 'reset':
        this.#end('reset', 'reset', 1)
        return undefined
      case 'close':
        this.#end('close', 'close', 1)
        return undefined
      case 'reset-after-append': {
        const settled = this.#settle(text, numbered)
        const flushed = settled === undefined ? this.#flush() : settled.then(() => this.#flush())
        if (flushed === undefined) {
          this.#end('reset-after-append', 'reset')
          return undefined
        }
        return flushed.then(() => { this.#end('reset-after-append', 'reset') })
      }
      case 'stall':
      case 'hang':
        return this.#hold(fault.ms).then((waited) => {
          if (this.ended) return
          if (!waited) {
            // The held-connection limit is reached: the message goes on as if calm.
            return this.#settle(text, numbered)
          }
          if (fault.name === 'hang') this.#end('hang', 'destroy', 1)
          else if (fault.reset) this.#end('stall, reset', 'reset', 1)
          else return this.#settle(text, numbered)
        })
    }
  }

  /** The message after its fault: refused, burned, or into the batch. */
  #settle (text: string, numbered: Numbered): Promise<unknown> | undefined {
    const { intake } = this.#context
    const refusal = intake.refusal(text, numbered, this.#protocol)
    if (refusal !== undefined) {
      this.report.refused[refusal] += 1
      return undefined
    }
    if (numbered.fate.burn) {
      const flushed = this.#flush()
      const burn = () => this.#counted(intake.append([text], this.#protocol, numbered.request, true), 1)
      return flushed === undefined ? burn() : flushed.then(burn)
    }
    this.#batch.push(text)
    this.#lastNumber = numbered.request
    return undefined
  }

  /** Appends the batch; a promise only while the store answers later. */
  #flush (): Promise<unknown> | undefined {
    if (this.#batch.length === 0) return undefined
    const batch = this.#batch
    this.#batch = []
    return this.#counted(this.#context.intake.append(batch, this.#protocol, this.#lastNumber), batch.length)
  }

  #counted (outcome: MessageOutcome | Promise<MessageOutcome>, count: number): Promise<unknown> | undefined {
    const tally = (settled: MessageOutcome): void => {
      if (settled === 'stored') this.report.stored += count
      else this.report.refused[settled === 'burn' ? 'burn' : settled] += count
    }
    if (outcome instanceof Promise) return outcome.then(tally)
    tally(outcome)
    return undefined
  }

  /** Stops reading for `ms`, holding the connection; false when the held-connection limit refuses. */
  async #hold (ms: number): Promise<boolean> {
    const held = this.#context.held.hold(this.#socket)
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

  #startSlow (request: number, fault: Extract<StreamFault, { name: 'slow-read' }>): void {
    this.#context.intake.fault(request, this.#protocol, fault)
    this.report.faults['slow-read'] = (this.report.faults['slow-read'] ?? 0) + 1
    if (this.#slow !== undefined) return
    const held = this.#context.held.hold(this.#socket)
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
    for (let frame = this.#framer.next(); frame !== undefined && Buffer.isBuffer(frame); frame = this.#framer.next()) report.discarded += 1
    report.cutBytes = this.#framer.buffered
    const socket = this.#socket
    socket.pause()
    if (how === 'reset') socket.resetAndDestroy()
    else if (how === 'close') socket.end(() => { socket.destroy() })
    else if (how === 'destroy') socket.destroy()
    else if (!socket.destroyed) socket.destroy()
    this.#context.ended(this)
  }
}
