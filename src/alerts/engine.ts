import { NOT_JSON, readJson } from './filter-pattern.js'
import type { Rule, Severity } from './rule.js'

export interface Alert {
  /** Counts up from 1 for the life of the process. */
  id: number
  rule: string
  severity: Severity
  description: string
  /** Milliseconds since the epoch. */
  time: number
  /** The block that triggered it: its place in the chain, as the event stream names it. */
  block: { epoch: number, index: number }
  /** 1, or for a digest, how many matches the cooldown merged. */
  count: number
  digest: boolean
}

export interface AlertEngineOptions {
  rules: readonly Rule[]
  clock: () => number
  /** Called for every alert, on its way to the rule's outputs. Must not throw. */
  deliver: (alert: Alert, rule: Rule) => void
  /** How many recent alerts GET /alerts keeps. */
  recent?: number
  /**
   * Memory of the entries waiting for the rules, counted as two bytes a
   * character (what V8 may hold them in): entries past it are dropped, and
   * counted.
   */
  maxQueueBytes?: number
  /** Starts a cooldown window's timer; setTimeout, unref'd, unless a test fakes it. */
  setTimer?: (run: () => void, ms: number) => void
}

interface Pending { entries: readonly string[], first: number, epoch: number, next: number, bytes: number }

// Text evaluated per turn of the event loop, in characters, each entry
// counting for at least ENTRY_MIN: 256 short entries, or one 32 KB one.
// Enough to keep up, little enough that a burst of batches (or of long
// lines, which every rule scans whole) never holds up requests.
const CHUNK = 32 * 1024
const ENTRY_MIN = 128

/**
 * Runs the rules over every stored entry, after the request that stored it
 * has been answered: entries are queued on append and evaluated in chunks on
 * later turns of the event loop. The first match of a rule is an alert at
 * once; further matches within its cooldown are merged into one digest, sent
 * when the window closes.
 */
export class AlertEngine {
  readonly #options: Required<AlertEngineOptions>
  readonly #queue: Pending[] = []
  #queuedBytes = 0
  #draining = false
  #nextId = 1
  readonly #recent: Alert[] = []
  readonly #cooldowns = new Map<string, { until: number, merged: number, last?: Alert }>()
  readonly #needsJson: boolean
  readonly #textRules: readonly Rule[]
  dropped = 0

  constructor (options: AlertEngineOptions) {
    this.#options = {
      recent: 200,
      maxQueueBytes: 16 * 1024 * 1024,
      setTimer: (run, ms) => { setTimeout(run, ms).unref() },
      ...options
    }
    this.#needsJson = options.rules.some((rule) => rule.json)
    this.#textRules = options.rules.filter((rule) => !rule.json)
  }

  /** Bytes of entries waiting for the rules, two a character. */
  get queuedBytes (): number {
    return this.#queuedBytes
  }

  /** Newest first. */
  get recent (): readonly Alert[] {
    return this.#recent
  }

  /** Queues entries just stored at chain positions first, first + 1, ... of `epoch`. */
  enqueue (entries: readonly string[], first: number, epoch: number): void {
    if (this.#options.rules.length === 0) return
    let bytes = 0
    for (const entry of entries) bytes += entry.length * 2
    if (this.#queuedBytes + bytes > this.#options.maxQueueBytes) {
      this.dropped += entries.length
      return
    }
    this.#queue.push({ entries, first, epoch, next: 0, bytes })
    this.#queuedBytes += bytes
    if (!this.#draining) {
      this.#draining = true
      setImmediate(() => this.#drain())
    }
  }

  /** Evaluates everything queued now, synchronously; for tests and shutdown. */
  flush (): void {
    while (this.#queue.length > 0) this.#evaluateChunk(Infinity)
  }

  #drain (): void {
    this.#evaluateChunk(CHUNK)
    if (this.#queue.length > 0) setImmediate(() => this.#drain())
    else this.#draining = false
  }

  #evaluateChunk (budget: number): void {
    let left = budget
    while (left > 0 && this.#queue.length > 0) {
      const pending = this.#queue[0] as Pending
      while (left > 0 && pending.next < pending.entries.length) {
        const index = pending.next++
        const entry = pending.entries[index] as string
        this.#evaluate(entry, { epoch: pending.epoch, index: pending.first + index })
        left -= Math.max(ENTRY_MIN, entry.length)
      }
      if (pending.next === pending.entries.length) {
        this.#queue.shift()
        this.#queuedBytes -= pending.bytes
      }
    }
  }

  #evaluate (entry: string, block: Alert['block']): void {
    const record = this.#needsJson ? readJson(entry) : NOT_JSON
    // A JSON pattern never matches an entry that is not a JSON object.
    const rules = record === NOT_JSON ? this.#textRules : this.#options.rules
    for (const rule of rules) {
      if (rule.matches(entry, record)) this.#matched(rule, record === NOT_JSON ? undefined : record, block)
    }
  }

  #matched (rule: Rule, record: unknown, block: Alert['block']): void {
    const now = this.#options.clock()
    const alert: Alert = {
      id: 0,
      rule: rule.name,
      severity: rule.severity,
      description: rule.describe(record),
      time: now,
      block,
      count: 1,
      digest: false
    }
    if (rule.cooldownSeconds === 0) return this.#emit(alert, rule)

    const cooldown = this.#cooldowns.get(rule.name)
    if (cooldown === undefined || now >= cooldown.until) {
      this.#cooldowns.set(rule.name, { until: now + rule.cooldownSeconds * 1000, merged: 0 })
      return this.#emit(alert, rule)
    }
    cooldown.merged++
    cooldown.last = alert
    if (cooldown.merged === 1) {
      this.#options.setTimer(() => this.#closeWindow(rule), cooldown.until - now)
    }
  }

  #closeWindow (rule: Rule): void {
    const cooldown = this.#cooldowns.get(rule.name)
    if (cooldown === undefined || cooldown.merged === 0 || cooldown.last === undefined) return
    this.#cooldowns.delete(rule.name)
    const last = cooldown.last
    this.#emit({
      ...last,
      time: this.#options.clock(),
      count: cooldown.merged,
      digest: true,
      description: `${cooldown.merged} more in ${rule.cooldownSeconds} s; the last: ${last.description}`
    }, rule)
  }

  #emit (alert: Alert, rule: Rule): void {
    alert.id = this.#nextId++
    this.#recent.unshift(alert)
    if (this.#recent.length > this.#options.recent) this.#recent.pop()
    this.#options.deliver(alert, rule)
  }
}
