import type { PlugDriver } from './drivers.js'

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** A balloon's compressor started, or stopped after `seconds`. */
    balloon: { balloon: string, inflating: boolean, seconds: number }
  }
}

export interface BalloonOptions {
  name: string
  driver: PlugDriver
  /** How long the compressor runs; at most 15 s. */
  seconds: number
  /** After a pulse, further alerts are merged into it until this has passed. */
  cooldownSeconds: number
  /** Until true, a pulse is only logged: nothing is switched. */
  armed: boolean
  clock: () => number
  log: (level: 'info' | 'warn' | 'error', fields: Record<string, unknown>, message: string) => void
  /** Waits, for the in-process off timer; a test can make it instant. */
  wait?: (ms: number) => Promise<void>
  /**
   * Claims the plug for a pulse and its cooldown, when several replicas
   * could drive it: false when another one holds it. Always granted when
   * omitted.
   */
  claim?: (ms: number) => Promise<boolean>
  /** Told when the compressor starts and stops, with how long it ran. */
  onInflate?: (inflating: boolean, seconds: number) => void
}

export type PulseOutcome = 'dry-run' | 'pulsed' | 'merged' | 'failed'

export const MAX_PULSE_SECONDS = 15

/**
 * One balloon: a smart plug that runs an air compressor for a few seconds
 * per alert. A compressor is a real device, so: the plug's own auto-off is
 * set before every "on", an in-process timer switches it off as well, the
 * state is read back both times, a burst of alerts makes one pulse, and
 * nothing is switched at all until the output is armed.
 */
export class Balloon {
  readonly #options: BalloonOptions
  #busyUntil = 0
  #pulsing = false
  merged = 0

  constructor (options: BalloonOptions) {
    if (!(options.seconds > 0 && options.seconds <= MAX_PULSE_SECONDS)) throw new RangeError(`a pulse lasts 0 to ${MAX_PULSE_SECONDS} s`)
    this.#options = options
  }

  get name (): string { return this.#options.name }

  /** Whether a pulse is running right now, for the stage page. */
  get pulsing (): boolean { return this.#pulsing }

  async pulse (): Promise<PulseOutcome> {
    const { name, seconds, clock, log } = this.#options
    const now = clock()
    if (this.#pulsing || now < this.#busyUntil) {
      this.merged++
      return 'merged'
    }
    const windowMs = (seconds + this.#options.cooldownSeconds) * 1000
    this.#busyUntil = now + windowMs
    if (!this.#options.armed) {
      log('info', { balloon: name, seconds }, 'balloon (dry run, not armed): would inflate')
      return 'dry-run'
    }

    this.#pulsing = true
    // Another replica pulsing this plug: this alert is merged into its pulse.
    if (this.#options.claim !== undefined && !await this.#options.claim(windowMs).catch(() => false)) {
      this.#pulsing = false
      this.merged++
      return 'merged'
    }
    const { driver } = this.#options
    try {
      await driver.pulseOn(seconds)
      if (!await driver.isOn()) throw new Error('the plug did not report on')
      log('warn', { balloon: name, seconds }, 'balloon inflating')
      const began = clock()
      this.#options.onInflate?.(true, 0)
      try {
        await (this.#options.wait ?? wait)(seconds * 1000)
        await this.#switchOff()
      } finally {
        this.#options.onInflate?.(false, (clock() - began) / 1000)
      }
      return 'pulsed'
    } catch (error) {
      log('error', { balloon: name, err: error }, 'balloon pulse failed; switching it off')
      await this.#switchOff().catch(() => {})
      return 'failed'
    } finally {
      this.#pulsing = false
    }
  }

  /** Switches off now and checks it; the admin's emergency stop calls this too. */
  async off (): Promise<void> {
    await this.#switchOff()
  }

  async #switchOff (): Promise<void> {
    const { driver, name, log } = this.#options
    await driver.off()
    if (await driver.isOn()) {
      log('error', { balloon: name }, 'balloon did not report off: the device-side auto-off remains')
      throw new Error(`${name} did not report off`)
    }
  }
}

const wait = (ms: number) => new Promise<void>((resolve) => { setTimeout(resolve, ms) })
