import { FiresFull, withExtras } from '../errors.js'
import type { Fire } from './fire.js'
import { newToken, tokenDigest, type Scope } from './tokens.js'

/** A fire anyone created, as the registry keeps it: never its tokens, only their digests. */
interface Created {
  fire: Fire
  digests: string[]
  lastUsed: number
}

/** What a fire's token opens. */
export interface Access {
  fire: Fire
  scope: Scope
}

/** A fire just created: the only time its tokens are shown. */
export interface NewFire {
  fire: Fire
  tokens: Record<Scope, string>
  expiresAt: number
}

export interface FiresOptions {
  /** Makes a created fire's parts: its chain within its own budget, its settings, seed and scorecard. */
  kindle: (id: string) => Promise<Fire>
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
  #kindling = 0

  /** Without options: `single` mode, the public fire alone. */
  constructor (publicFire: Fire, options?: FiresOptions) {
    this.public = publicFire
    this.#options = options
  }

  get open (): boolean { return this.#options !== undefined }
  /** Created fires, not yet gone out. */
  get size (): number { return this.#created.size }

  async create (): Promise<NewFire> {
    const options = this.#options
    if (options === undefined) throw new Error('fires are created in open mode only')
    // At LOGFIRE_MAX_FIRES only the fires already idle make room: a fire in use is never taken from its holders.
    if (this.#created.size + this.#kindling >= options.maxFires) this.sweep()
    if (this.#created.size + this.#kindling >= options.maxFires) throw withExtras(new FiresFull(), { headers: { 'retry-after': '60' } })
    this.#kindling++
    let fire: Fire
    try {
      fire = await options.kindle(options.randomBytes(12).toString('base64url'))
    } finally {
      this.#kindling--
    }
    const tokens: Record<Scope, string> = {
      ingest: newToken('ingest', options.randomBytes),
      view: newToken('view', options.randomBytes),
      admin: newToken('admin', options.randomBytes)
    }
    const now = options.clock()
    const created: Created = { fire, digests: [], lastUsed: now }
    for (const scope of ['ingest', 'view', 'admin'] as const) {
      const digest = tokenDigest(tokens[scope])
      created.digests.push(digest)
      this.#byDigest.set(digest, { created, scope })
    }
    this.#created.set(fire.id, created)
    return { fire, tokens, expiresAt: now + options.idleMs }
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
    return { fire: created.fire, scope }
  }

  /** When a fire unused for its idle time goes out, if nothing uses it first. */
  expiresAt (fire: Fire): number | undefined {
    const created = this.#created.get(fire.id)
    return created === undefined || this.#options === undefined ? undefined : created.lastUsed + this.#options.idleMs
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
    return now - created.lastUsed > (this.#options?.idleMs ?? Infinity) && !created.fire.watched
  }

  #putOut (created: Created): void {
    this.#created.delete(created.fire.id)
    for (const digest of created.digests) this.#byDigest.delete(digest)
    created.fire.close().catch(() => {})
  }

  /** Open event streams end at once, so closing is not held up by viewers. */
  closeViewers (): void {
    this.public.closeViewers()
    for (const { fire } of this.#created.values()) fire.closeViewers()
  }

  async close (): Promise<void> {
    const fires = [this.public, ...[...this.#created.values()].map(({ fire }) => fire)]
    this.#created.clear()
    this.#byDigest.clear()
    await Promise.all(fires.map((fire) => fire.close()))
  }
}
