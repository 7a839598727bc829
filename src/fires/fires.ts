import { FiresFull, withExtras } from '../errors.js'
import type { Fire } from './fire.js'
import { newToken, tokenDigest, type Scope } from './tokens.js'

/**
 * A fire anyone created, as the registry keeps it: never its tokens, only
 * their digests. Its parts (chain, settings, scorecard...) are kindled when
 * one of its tokens is first used: a fire created and never fed costs its
 * name, its seed and three digests.
 */
interface Created {
  id: string
  seed: string
  fire: Fire | Promise<Fire> | undefined
  digests: string[]
  lastUsed: number
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
}

/**
 * Every fire this process serves: the public fire, and in open mode the
 * fires anyone created, each found by one of its tokens.
 */
export class Fires {
  readonly public: Fire
  readonly #options: FiresOptions | undefined
  readonly #created = new Map<string, Created>()
  readonly #byDigest = new Map<string, { created: Created, scope: Scope }>()

  /** Without options: `single` mode, the public fire alone. */
  constructor (publicFire: Fire, options?: FiresOptions) {
    this.public = publicFire
    this.#options = options
  }

  get open (): boolean { return this.#options !== undefined }
  /** Created fires, not yet gone out. */
  get size (): number { return this.#created.size }

  create (): NewFire {
    const options = this.#options
    if (options === undefined) throw new Error('fires are created in open mode only')
    // At LOGFIRE_MAX_FIRES only the fires already idle make room: a fire in use is never taken from its holders.
    if (this.#created.size >= options.maxFires) this.sweep()
    if (this.#created.size >= options.maxFires) throw withExtras(new FiresFull(), { headers: { 'retry-after': '60' } })
    const { randomBytes } = options
    const tokens: Record<Scope, string> = { ingest: newToken('ingest', randomBytes), view: newToken('view', randomBytes), admin: newToken('admin', randomBytes) }
    const now = options.clock()
    const created: Created = { id: randomBytes(12).toString('base64url'), seed: randomBytes(4).toString('hex'), fire: undefined, digests: [], lastUsed: now }
    for (const scope of ['ingest', 'view', 'admin'] as const) {
      const digest = tokenDigest(tokens[scope])
      created.digests.push(digest)
      this.#byDigest.set(digest, { created, scope })
    }
    this.#created.set(created.id, created)
    return { id: created.id, tokens, expiresAt: now + options.idleMs }
  }

  /** The fire and scope a token opens; undefined for a token unknown or gone out. Each use keeps the fire alight. */
  find (token: string): Access | undefined {
    const options = this.#options
    if (options === undefined) return undefined
    const found = this.#byDigest.get(tokenDigest(token))
    if (found === undefined) return undefined
    const { created, scope } = found
    const now = options.clock()
    if (this.#idle(created, now)) {
      this.#putOut(created)
      return undefined
    }
    created.lastUsed = now
    created.fire ??= options.kindle(created.id, created.seed).then((fire) => {
      // Put out while it was being kindled: let go of it at once.
      if (this.#created.get(created.id) !== created) fire.close().catch(() => {})
      else created.fire = fire
      return fire
    })
    return { fire: created.fire, scope }
  }

  /** Puts out every fire idle for too long; how many went out. */
  sweep (): number {
    const options = this.#options
    if (options === undefined) return 0
    const now = options.clock()
    let gone = 0
    for (const created of this.#created.values()) {
      if (this.#idle(created, now)) {
        this.#putOut(created)
        gone++
      }
    }
    return gone
  }

  // Someone watching keeps a fire alight.
  #idle (created: Created, now: number): boolean {
    const watched = created.fire !== undefined && !(created.fire instanceof Promise) && created.fire.watched
    return now - created.lastUsed > (this.#options?.idleMs ?? Infinity) && !watched
  }

  #putOut (created: Created): void {
    this.#created.delete(created.id)
    for (const digest of created.digests) this.#byDigest.delete(digest)
    if (created.fire !== undefined && !(created.fire instanceof Promise)) created.fire.close().catch(() => {})
  }

  #kindled (): Fire[] {
    return [...this.#created.values()].flatMap(({ fire }) => fire === undefined || fire instanceof Promise ? [] : [fire])
  }

  /** Open event streams end at once, so closing is not held up by viewers. */
  closeViewers (): void {
    this.public.closeViewers()
    for (const fire of this.#kindled()) fire.closeViewers()
  }

  async close (): Promise<void> {
    const fires = [this.public, ...this.#kindled()]
    this.#created.clear()
    this.#byDigest.clear()
    await Promise.all(fires.map((fire) => fire.close()))
  }
}
