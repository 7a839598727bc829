import { setTimeout as sleep } from 'node:timers/promises'

/**
 * The flood that once killed the container: long lines, many to a request,
 * several requests at a time, for as many bytes as asked. Every request must
 * be stored (200) or burn the chain (410); meanwhile a one-line POST every
 * quarter second measures how long a small client waits.
 */
export interface FloodOptions {
  url: string
  /** Bytes of request bodies to send in all. */
  bytes: number
  /** Stop sooner, after this long. */
  seconds?: number
  lineBytes?: number
  linesPerRequest?: number
  concurrency?: number
  /** Called with the bytes sent so far, about once a second. */
  progress?: (sent: number) => void
}

export interface FloodResult {
  requests: number
  bytes: number
  seconds: number
  statuses: Record<number, number>
  /** Requests answered with anything but 200 or 410, or not answered at all. */
  failures: string[]
  /** The slowest one-line POST made during the flood. */
  probeMaxMs: number
  probes: number
}

export async function flood (options: FloodOptions): Promise<FloodResult> {
  const lineBytes = options.lineBytes ?? 60_000
  const linesPerRequest = options.linesPerRequest ?? 16
  const concurrency = options.concurrency ?? 4
  // Letters and digits only: nothing the GDPR rule could read as Europe.
  const body = Buffer.from(Array.from({ length: linesPerRequest }, (_, i) =>
    `flood line ${i} `.padEnd(lineBytes, 'x')).join('\n'))
  const total = Math.ceil(options.bytes / body.length)
  const headers = { 'content-type': 'text/plain', 'x-logfire-chaos': 'off' }

  const statuses: Record<number, number> = {}
  const failures: string[] = []
  const count = (status: number) => { statuses[status] = (statuses[status] ?? 0) + 1 }
  let started = 0
  let sent = 0
  const began = performance.now()
  const deadline = began + (options.seconds ?? Infinity) * 1000

  async function worker (): Promise<void> {
    while (started < total && failures.length < 10 && performance.now() < deadline) {
      started++
      try {
        const response = await fetch(`${options.url}/logs`, { method: 'POST', headers, body, signal: AbortSignal.timeout(60_000) })
        const text = await response.text()
        count(response.status)
        if (response.status !== 200 && response.status !== 410) failures.push(`${response.status} ${text.slice(0, 200)}`)
      } catch (error) {
        failures.push(String(error))
      }
      sent += body.length
    }
  }

  const flooding = { on: true }
  let probeMaxMs = 0
  let probes = 0
  async function probe (): Promise<void> {
    while (flooding.on) {
      const start = performance.now()
      try {
        const response = await fetch(`${options.url}/logs`, { method: 'POST', headers, body: 'a small line during the flood', signal: AbortSignal.timeout(30_000) })
        await response.arrayBuffer()
        if (response.status !== 200 && response.status !== 410) failures.push(`probe: ${response.status}`)
      } catch (error) {
        failures.push(`probe: ${String(error)}`)
      }
      probeMaxMs = Math.max(probeMaxMs, performance.now() - start)
      probes++
      await sleep(250)
    }
  }

  const reporter = options.progress === undefined ? undefined : setInterval(() => options.progress?.(sent), 1000)
  const probing = probe()
  await Promise.all(Array.from({ length: concurrency }, worker))
  flooding.on = false
  await probing
  clearInterval(reporter)

  return {
    requests: Object.values(statuses).reduce((sum, n) => sum + n, 0),
    bytes: sent,
    seconds: (performance.now() - began) / 1000,
    statuses,
    failures,
    probeMaxMs,
    probes
  }
}
