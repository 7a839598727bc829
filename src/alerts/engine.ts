import { NOT_JSON, opensObject, readJson } from './filter-pattern.js'
import type { Rule, Severity } from './rule.js'
import type { WindowStore } from '../chain/backend.js'
import { MemoryWindows, type FlatlineWindow } from '../chain/windows.js'

export interface Alert {
  /** Counts up from 1 for the life of the process. */
  id: number
  rule: string
  severity: Severity
  description: string
  /** Milliseconds since the epoch. */
  time: number
  /** The block that triggered it: its place in the chain, as the event stream names it. A flatline has none. */
  block?: { epoch: number, index: number }
  /** 1; for a digest, how many matches the cooldown merged; for a frequency or flatline rule, the matches in its window. */
  count: number
  digest: boolean
  /** A frequency rule's groupBy value. */
  group?: string
  /** Set on a resolve: the id of the alert that fired, whose condition has ended. */
  resolves?: number
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
  /**
   * Where frequency and flatline rules count their matches: the chain,
   * shared by every replica; this engine's own memory when omitted.
   */
  windows?: WindowStore
  /** Starts a timer (a cooldown window's, a flatline's); setTimeout, unref'd, unless a test fakes it. */
  setTimer?: (run: () => void, ms: number) => void
}

/** Whether an entry may match one of the JSON rules, from its text alone. */
function jsonPrefilter (rules: readonly Rule[]): (entry: string) => boolean {
  if (rules.length === 0) return () => false
  if (rules.some((rule) => rule.needs === undefined)) return () => true
  const fields = [...new Set(rules.flatMap((rule) => rule.needs ?? []))]
  // A field spelt with escapes holds a backslash; JSON.parse would still read it.
  const named = new RegExp(`\\\\|"(?:${fields.map((field) => field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})"`)
  return (entry) => named.test(entry)
}

/** Calls `then` with a value now, or when its promise settles: in memory, answers come at once. */
function settle<T> (value: T | Promise<T>, then: (value: T) => void, failed: () => void): void {
  if (value instanceof Promise) value.then(then, failed)
  else then(value)
}

interface Pending { entries: readonly string[], first: number, epoch: number, next: number, bytes: number }

// Cooldown windows kept at once, across a rule's groups; past it, the closed ones go.
const MAX_COOLDOWNS = 10_000

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
 * when the window closes. A frequency rule alerts at its threshold of
 * matches within its window; a flatline rule alerts once when its matches
 * fall below the threshold, and resolves when they are back.
 */
export class AlertEngine {
  readonly #options: Required<AlertEngineOptions>
  readonly #queue: Pending[] = []
  #queuedBytes = 0
  #draining = false
  #nextId = 1
  readonly #recent: Alert[] = []
  readonly #cooldowns = new Map<string, { until: number, merged: number, last?: Alert }>()
  readonly #windows: WindowStore
  // Per flatline rule, when its scheduled looks come.
  readonly #flatlines = new Map<Rule, Set<number>>()
  readonly #startedAt: number
  readonly #needsJson: boolean
  readonly #textRules: readonly Rule[]
  // True when an entry's text names a field some JSON rule needs (or holds
  // an escape, which could spell one): only then can a JSON rule match it.
  readonly #mayMatchJson: (entry: string) => boolean
  #stopped = false
  dropped = 0
  /** Window-rule matches and looks the shared store could not count (it was unreachable). */
  uncounted = 0

  constructor (options: AlertEngineOptions) {
    this.#windows = options.windows ?? new MemoryWindows()
    this.#options = {
      windows: this.#windows,
      recent: 200,
      maxQueueBytes: 16 * 1024 * 1024,
      setTimer: (run, ms) => { setTimeout(run, ms).unref() },
      ...options
    }
    // A groupBy field is read from text entries too, when they are JSON.
    this.#needsJson = options.rules.some((rule) => rule.json || rule.window?.groupOf !== undefined)
    this.#textRules = options.rules.filter((rule) => !rule.json)
    this.#mayMatchJson = jsonPrefilter(options.rules.filter((rule) => rule.json))
    const watched = options.rules.filter((rule) => rule.window?.type === 'flatline')
    this.#startedAt = watched.length > 0 ? options.clock() : 0
    for (const rule of watched) {
      this.#flatlines.set(rule, new Set())
      this.#lookAt(rule, this.#startedAt + (rule.window as FlatlineWindow).withinMs)
    }
  }

  /** No alert after this; timers already started find nothing to do. */
  stop (): void {
    this.#stopped = true
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
    // Parsing is most of a rule pack's cost: an entry no JSON rule could
    // match is parsed only once a text rule matches it (for its template or group).
    const parsed = this.#needsJson && opensObject(entry) && this.#mayMatchJson(entry)
    const record = parsed ? readJson(entry) : NOT_JSON
    // A JSON pattern never matches an entry that is not a JSON object.
    const rules = record === NOT_JSON ? this.#textRules : this.#options.rules
    for (const rule of rules) {
      if (!rule.matches(entry, record)) continue
      const json = parsed || !this.#needsJson ? record : readJson(entry)
      this.#matched(rule, json === NOT_JSON ? undefined : json, block)
    }
  }

  #matched (rule: Rule, record: unknown, block: Alert['block']): void {
    const now = this.#options.clock()
    if (rule.window?.type === 'flatline') {
      settle(this.#windows.flatlineMatch(rule.name, now, rule.window, this.#startedAt), (resolves) => {
        if (resolves === undefined) return
        this.#emit({ id: 0, rule: rule.name, severity: rule.severity, description: rule.describe(undefined), time: now, count: rule.window?.threshold ?? 1, digest: false, resolves }, rule)
        // Watching again: when the matches it has now run out.
        this.#look(rule)
      }, () => { this.uncounted++ })
      return
    }
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
    const window = rule.window
    if (window === undefined) return this.#raise(alert, rule, now)
    // A frequency rule: an alert when this match makes the threshold.
    const group = window.groupOf?.(record)
    if (group !== undefined) alert.group = group
    alert.count = window.threshold
    settle(this.#windows.tally(rule.name, group ?? '', now, window), (count) => {
      if (count >= window.threshold) this.#raise(alert, rule, now)
    }, () => { this.uncounted++ })
  }

  /** An alert, sent at once, or merged into its cooldown's digest. */
  #raise (alert: Alert, rule: Rule, now: number): void {
    if (rule.cooldownSeconds === 0) return this.#emit(alert, rule)
    const group = alert.group
    const key = group === undefined ? rule.name : `${rule.name}\u0000${group}`
    const cooldown = this.#cooldowns.get(key)
    if (cooldown === undefined || now >= cooldown.until) {
      this.#keepCooldownsBounded(now)
      this.#cooldowns.set(key, { until: now + rule.cooldownSeconds * 1000, merged: 0 })
      return this.#emit(alert, rule)
    }
    cooldown.merged++
    cooldown.last = alert
    if (cooldown.merged === 1) {
      this.#options.setTimer(() => this.#closeWindow(rule, key), cooldown.until - now)
    }
  }

  #keepCooldownsBounded (now: number): void {
    if (this.#cooldowns.size < MAX_COOLDOWNS) return
    for (const [key, cooldown] of this.#cooldowns) {
      if (now >= cooldown.until && cooldown.merged === 0) this.#cooldowns.delete(key)
    }
    // Still full of open windows: the oldest one ends early.
    if (this.#cooldowns.size >= MAX_COOLDOWNS) this.#cooldowns.delete(this.#cooldowns.keys().next().value as string)
  }

  // Asks the watch whether the rule fires now; it says when to ask again.
  #look (rule: Rule): void {
    const window = rule.window as FlatlineWindow
    if (this.#stopped) return
    const now = this.#options.clock()
    settle(this.#windows.flatlineLook(rule.name, now, window, this.#startedAt), (look) => {
      if ('next' in look) return this.#lookAt(rule, look.next)
      if ('fire' in look) {
        const alert: Alert = { id: 0, rule: rule.name, severity: rule.severity, description: rule.describe(undefined), time: now, count: look.fire, digest: false }
        this.#emit(alert, rule)
        settle(this.#windows.flatlineFired(rule.name, alert.id), () => {}, () => {})
      }
      // It fired, here or on another replica: look again a window later, in
      // case a replica that never hears of a match resolves it.
      this.#lookAt(rule, now + window.withinMs)
    }, () => {
      this.uncounted++
      this.#lookAt(rule, now + Math.min(window.withinMs, 5000))
    })
  }

  // Matches only move a watch's deadline later: a look scheduled earlier
  // than `at` will schedule the next one itself.
  #lookAt (rule: Rule, at: number): void {
    const scheduled = this.#flatlines.get(rule) as Set<number>
    for (const time of scheduled) if (time <= at) return
    scheduled.add(at)
    this.#options.setTimer(() => {
      scheduled.delete(at)
      this.#look(rule)
    }, Math.max(0, at - this.#options.clock()))
  }

  #closeWindow (rule: Rule, key: string): void {
    const cooldown = this.#cooldowns.get(key)
    if (cooldown === undefined || cooldown.merged === 0 || cooldown.last === undefined) return
    this.#cooldowns.delete(key)
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
    if (this.#stopped) return
    alert.id = this.#nextId++
    this.#recent.unshift(alert)
    if (this.#recent.length > this.#options.recent) this.#recent.pop()
    this.#options.deliver(alert, rule)
  }
}
