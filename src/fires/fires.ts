import { FiresFull, withExtras } from '../errors.js'
import type { Fire } from './fire.js'
import { FIRE_ID_BYTES, fireIdOf, newToken, tokenDigest, type Scope } from './tokens.js'

/** A created fire as every replica may know it: never its tokens, only their digests. */
export interface FireRecord {
  id: string
  seed: string
  digests: Record<Scope, string>
}

/**
 * The fires every replica shares (in Redis): the registry of record, whose
 * expiry ends a fire everywhere. Each replica keeps only the fires used
 * through it, and asks again now and then.
 */
export interface SharedRegistry {
  /** Records a new fire; false when LOGFIRE_MAX_FIRES are alight. */
  add: (fire: FireRecord, maxFires: number, idleMs: number) => Promise<boolean>
  /** The fire a token opens (named by its id, checked by its digest), kept alight for idleMs more; undefined when unknown or gone out. */
  open: (id: string, digest: string, idleMs: number) => Promise<{ fire: FireRecord, scope: Scope } | undefined>
  /** Keeps a fire alight for at least ms more; false when it has gone out. */
  touch: (fire: FireRecord, ms: number) => Promise<boolean>
}

/**
 * A created fire this process knows. Its parts (chain, settings,
 * scorecard...) are kindled when one of its tokens is first used: a fire
 * created and never fed costs its name, its seed and three digests.
 */
interface Known {
  record: FireRecord
  fire: Fire | Promise<Fire> | undefined
  lastUsed: number
  /** When the shared registry last said it is alight. */
  checkedAt: number
}

/** What a fire's token opens: the fire, once kindled. */
export interface Access {
  fire: Fire | Promise<Fire>
  scope: Scope
}

/** A fire just created: the only time its tokens are shown. */
export interface NewFire {
  id: string
  tokens: Record<Scope, string>
  expiresAt: number
}

export interface FiresOptions {
  /** Makes a created fire's parts: its chain within its own budget, its settings and scorecard, with this seed. */
  kindle: (id: string, seed: string) => Promise<Fire>
  maxFires: number
  idleMs: number
  clock: () => number
  randomBytes: (size: number) => Buffer
  /** With replicas: the fires they all share. Without, this process's fires are the only ones. */
  shared?: SharedRegistry
}

// With a shared registry: how long a replica trusts what it knows of a fire before asking again...
const RECHECK_MS = 10_000
// ...and how long it follows a fire no one uses through it.
const FOLLOW_MS = 5 * 60_000

/**
 * Every fire this process serves: the public fire, and in open mode the
 * fires anyone created, each found by one of its tokens. With replicas the
 * shared registry is the record, and a replica kindles (and follows) only
 * the fires used through it.
 */
export class Fires {
  readonly public: Fire
  readonly #options: FiresOptions | undefined
  readonly #known = new Map<string, Known>()
  readonly #byDigest = new Map<string, { known: Known, scope: Scope }>()
  /** Lookups in the shared registry under way, so a burst with one token asks once. */
  readonly #opening = new Map<string, Promise<{ fire: FireRecord, scope: Scope } | undefined>>()
  readonly #recheckMs: number
  readonly #followMs: number

  /** Without options: `single` mode, the public fire alone. */
  constructor (publicFire: Fire, options?: FiresOptions) {
    this.public = publicFire
    this.#options = options
    const idleMs = options?.idleMs ?? Infinity
    this.#recheckMs = Math.min(RECHECK_MS, idleMs / 10)
    this.#followMs = Math.min(FOLLOW_MS, idleMs)
  }

  get open (): boolean { return this.#options !== undefined }

  create (): NewFire | Promise<NewFire> {
    const options = this.#options
    if (options === undefined) throw new Error('fires are created in open mode only')
    const { randomBytes, shared, maxFires, idleMs } = options
    const id = randomBytes(FIRE_ID_BYTES).toString('base64url')
    const tokens: Record<Scope, string> = { ingest: newToken('ingest', id, randomBytes), view: newToken('view', id, randomBytes), admin: newToken('admin', id, randomBytes) }
    const record: FireRecord = {
      id,
      seed: randomBytes(4).toString('hex'),
      digests: { ingest: tokenDigest(tokens.ingest), view: tokenDigest(tokens.view), admin: tokenDigest(tokens.admin) }
    }
    const created = (): NewFire => {
      const now = options.clock()
      this.#remember(record, now)
      return { id: record.id, tokens, expiresAt: now + idleMs }
    }
    if (shared !== undefined) {
      return shared.add(record, maxFires, idleMs).then((added) => {
        if (!added) throw full()
        return created()
      })
    }
    // At LOGFIRE_MAX_FIRES only the fires already idle make room: a fire in use is never taken from its holders.
    if (this.#known.size >= maxFires) this.sweep()
    if (this.#known.size >= maxFires) throw full()
    return created()
  }

  /** The fire and scope a token opens; undefined for a token unknown or gone out. Each use keeps the fire alight. */
  find (token: string): Access | undefined | Promise<Access | undefined> {
    const options = this.#options
    if (options === undefined) return undefined
    const digest = tokenDigest(token)
    const found = this.#byDigest.get(digest)
    const now = options.clock()
    if (options.shared !== undefined) {
      return found !== undefined && now - found.known.checkedAt < this.#recheckMs
        ? this.#use(found.known, found.scope, now)
        : this.#openShared(token, digest, options.shared)
    }
    if (found === undefined) return undefined
    if (this.#idle(found.known, now)) {
      this.#forget(found.known)
      return undefined
    }
    return this.#use(found.known, found.scope, now)
  }

  /**
   * Puts out every fire idle for too long. With replicas, stops following the
   * fires no one uses through this one, and tells the registry of the use
   * since it last asked: the keys that use made expire with the fire.
   */
  sweep (): number {
    const options = this.#options
    if (options === undefined) return 0
    const now = options.clock()
    const { shared, idleMs } = options
    let gone = 0
    for (const known of this.#known.values()) {
      // Someone watching keeps a fire alight.
      if (watched(known)) known.lastUsed = now
      if (now - known.lastUsed > (shared === undefined ? idleMs : this.#followMs)) {
        if (shared !== undefined) shared.touch(known.record, known.lastUsed + idleMs - now).catch(() => {})
        this.#forget(known)
        gone++
      } else if (shared !== undefined && known.lastUsed > known.checkedAt) {
        shared.touch(known.record, known.lastUsed + idleMs - now).then((alight) => {
          if (alight) known.checkedAt = now
          else this.#forget(known)
        }, () => {})
      }
    }
    return gone
  }

  /** How often to sweep: with replicas, as often as a replica asks the registry again. */
  get sweepMs (): number {
    return this.#options?.shared === undefined ? 60_000 : this.#recheckMs
  }

  #use (known: Known, scope: Scope, now: number): Access {
    known.lastUsed = now
    known.fire ??= this.#kindle(known)
    return { fire: known.fire, scope }
  }

  async #kindle (known: Known): Promise<Fire> {
    const options = this.#options as FiresOptions
    let fire: Fire
    try {
      fire = await options.kindle(known.record.id, known.record.seed)
    } catch (error) {
      // Redis away: the next use tries again.
      known.fire = undefined
      throw error
    }
    // Gone out while it was being kindled: let go of it at once.
    if (this.#known.get(known.record.id) !== known) fire.close().catch(() => {})
    else known.fire = fire
    // Its chain's keys were made just now: they expire with the fire.
    if (options.shared !== undefined) options.shared.touch(known.record, options.idleMs).catch(() => {})
    return fire
  }

  async #openShared (token: string, digest: string, shared: SharedRegistry): Promise<Access | undefined> {
    const options = this.#options as FiresOptions
    const id = fireIdOf(token)
    if (id === undefined) return undefined
    let opening = this.#opening.get(digest)
    if (opening === undefined) {
      opening = shared.open(id, digest, options.idleMs).finally(() => { this.#opening.delete(digest) })
      this.#opening.set(digest, opening)
    }
    let opened: Awaited<typeof opening>
    try {
      opened = await opening
    } catch (error) {
      // The registry's keys are out of reach (in a cluster, on a node that
      // is down): a fire this replica knows goes on, if its chain's node is up.
      const known = this.#byDigest.get(digest)
      if (known === undefined) throw error
      return this.#use(known.known, known.scope, options.clock())
    }
    const now = options.clock()
    if (opened === undefined) {
      const found = this.#byDigest.get(digest)
      if (found !== undefined) this.#forget(found.known)
      return undefined
    }
    const known = this.#known.get(opened.fire.id) ?? this.#remember(opened.fire, now)
    known.checkedAt = now
    return this.#use(known, opened.scope, now)
  }

  #remember (record: FireRecord, now: number): Known {
    const known: Known = { record, fire: undefined, lastUsed: now, checkedAt: now }
    this.#known.set(record.id, known)
    for (const scope of ['ingest', 'view', 'admin'] as const) this.#byDigest.set(record.digests[scope], { known, scope })
    return known
  }

  // Someone watching keeps a fire alight.
  #idle (known: Known, now: number): boolean {
    return now - known.lastUsed > (this.#options?.idleMs ?? Infinity) && !watched(known)
  }

  #forget (known: Known): void {
    this.#known.delete(known.record.id)
    for (const digest of Object.values(known.record.digests)) this.#byDigest.delete(digest)
    if (known.fire !== undefined && !(known.fire instanceof Promise)) known.fire.close().catch(() => {})
  }

  #kindled (): Fire[] {
    return [...this.#known.values()].flatMap(({ fire }) => fire === undefined || fire instanceof Promise ? [] : [fire])
  }

  /** Open event streams end at once, so closing is not held up by viewers. */
  closeViewers (): void {
    this.public.closeViewers()
    for (const fire of this.#kindled()) fire.closeViewers()
  }

  async close (): Promise<void> {
    const fires = [this.public, ...this.#kindled()]
    this.#known.clear()
    this.#byDigest.clear()
    await Promise.all(fires.map(async (fire) => { await fire.close() }))
  }
}

const watched = (known: Known): boolean => known.fire !== undefined && !(known.fire instanceof Promise) && known.fire.watched

const full = () => withExtras(new FiresFull(), { headers: { 'retry-after': '60' } })
