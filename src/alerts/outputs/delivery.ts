import { setTimeout as sleep } from 'node:timers/promises'

export interface DeliveryOptions {
  /** Per attempt. */
  timeoutMs: number
  attempts: number
  /** The first backoff; each next one doubles, with jitter. */
  backoffMs: number
  random: () => number
}

export const DELIVERY_DEFAULTS: DeliveryOptions = { timeoutMs: 5000, attempts: 5, backoffMs: 500, random: Math.random }

export interface Delivery { ok: boolean, attempts: number, status?: number, error?: string }

/**
 * POSTs a JSON body until it is accepted: network errors, timeouts, 429 and
 * 5xx are retried with exponential backoff and jitter; any other answer is
 * final. Never throws, so one failing output cannot affect another.
 */
export async function postJson (url: string, body: string, headers: Record<string, string>, options: DeliveryOptions = DELIVERY_DEFAULTS): Promise<Delivery> {
  let last: Delivery = { ok: false, attempts: 0 }
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) await sleep(options.backoffMs * 2 ** (attempt - 2) * (0.5 + options.random()))
    try {
      const response = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', ...headers },
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: 'error'
      })
      await response.arrayBuffer()
      last = { ok: response.ok, attempts: attempt, status: response.status }
      if (response.ok || (response.status !== 429 && response.status < 500)) return last
    } catch (error) {
      last = { ok: false, attempts: attempt, error: (error as Error).name === 'TimeoutError' ? 'timeout' : (error as Error).message }
    }
  }
  return last
}
