import { randomBytes } from 'node:crypto'
import { describe, expect, inject, it } from 'vitest'
import { verifyChain } from '../src/chain/verify.js'
import { redisMissing } from './redis-server.js'
import { startServer } from './server-process.js'
import { openStream } from './sse-client.js'

// Three real logfire processes on one Redis, as behind a load balancer.
const SEED = 'three replicas'
const CHAOS = { LOGFIRE_SEED: SEED, LOGFIRE_FIRE_RATE: '0.1', LOGFIRE_BURN_RATE: '0', LOGFIRE_GDPR: 'false', LOGFIRE_RATE_LIMIT: '1000000', LOGFIRE_ADMIN_TOKEN: 's3cret' }

/** Where the trio's traffic goes: the public fire, or a fire created on the first replica. */
interface Target {
  env: Record<string, string>
  /** The headers that write, read and burn, and the seed its fates come from. */
  open: (url: string) => Promise<{ write: Record<string, string>, read: Record<string, string>, admin: Record<string, string>, seed: string }>
}

const PUBLIC_FIRE: Target = {
  env: {},
  open: async () => ({ write: {}, read: {}, admin: { authorization: 'Bearer s3cret' }, seed: SEED })
}

const CREATED_FIRE: Target = {
  env: { LOGFIRE_FIRES: 'open', LOGFIRE_FIRE_RATE_LIMIT: '1000000', LOGFIRE_FIRE_CREATE_RATE_LIMIT: '0' },
  open: async (url) => {
    const fire = await (await fetch(`${url}/fires`, { method: 'POST' })).json() as { ingestToken: string, viewToken: string, adminToken: string }
    const read = { authorization: `Bearer ${fire.viewToken}` }
    const { chaos } = await (await fetch(url, { headers: { ...read, ...CALM } })).json() as { chaos: { seed: string } }
    return { write: { authorization: `Bearer ${fire.ingestToken}` }, read, admin: { authorization: `Bearer ${fire.adminToken}` }, seed: chaos.seed }
  }
}

async function replica (namespace: string, fire: Target) {
  const server = startServer({ ...CHAOS, ...fire.env, LOGFIRE_REDIS_URL: inject('redisUrl'), LOGFIRE_REDIS_NAMESPACE: namespace })
  return { ...server, url: await server.listening }
}

interface Sent { line: string, replica: number, status: number | 'cut', request?: number }

async function send (url: string, line: string, headers: Record<string, string> = {}): Promise<{ status: number | 'cut', request?: number }> {
  try {
    const response = await fetch(`${url}/logs`, { method: 'POST', body: line, headers: { 'content-type': 'text/plain', ...headers } })
    await response.arrayBuffer()
    return { status: response.status, request: Number(response.headers.get('x-logfire-request')) }
  } catch {
    return { status: 'cut' }
  }
}

// Reads are in the fire too: these ask for no chaos.
const CALM = { 'x-logfire-chaos': 'off' }

async function chainOf (url: string, headers: Record<string, string>): Promise<Array<{ data: string }>> {
  return await (await fetch(`${url}/logs`, { headers: { ...CALM, ...headers } })).json() as Array<{ data: string }>
}

describe.skipIf(redisMissing !== '')(`three logfire processes on one Redis${redisMissing}`, () => {
  it.each([['the public fire', PUBLIC_FIRE], ['a fire created on one of them', CREATED_FIRE]])('serve %s as one chain: every acknowledged entry once, the same fates as one process, one event stream', async (_, fire) => {
    const namespace = `trio-${randomBytes(4).toString('hex')}`
    const replicas = await Promise.all([replica(namespace, fire), replica(namespace, fire), replica(namespace, fire)])
    const [a, b, c] = replicas as [typeof replicas[0], typeof replicas[0], typeof replicas[0]]
    const { write, read, admin, seed } = await fire.open(a.url)

    // A viewer on C, before anything is posted.
    const viewer = openStream(`${c.url}/logs/stream`, read)
    await viewer.connected()

    // Eight clients post round-robin; C is killed a third of the way in.
    const sent: Sent[] = []
    let next = 0
    const alive = [true, true, true]
    const client = async () => {
      while (next < 600) {
        const n = next++
        if (n === 200) {
          c.child.kill('SIGKILL')
          alive[2] = false
        }
        const target = n % 3
        const line = `entry ${n}`
        const outcome = await send((replicas[target] as typeof a).url, line, write)
        sent.push({ line, replica: target, ...outcome })
      }
    }
    await Promise.all(Array.from({ length: 8 }, client))

    // The same chain from A and B, which verifies.
    const fromA = await chainOf(a.url, read)
    const fromB = await chainOf(b.url, read)
    expect(JSON.stringify(fromB)).toBe(JSON.stringify(fromA))
    expect(verifyChain(fromA)).toMatchObject({ valid: true })

    // Every 200 is there exactly once; nothing refused is; the only
    // unacknowledged entries stored are ones C was cut off answering.
    const stored = fromA.slice(1).map((block) => block.data)
    const counts = new Map<string, number>()
    for (const line of stored) counts.set(line, (counts.get(line) ?? 0) + 1)
    const acknowledged = sent.filter((s) => s.status === 200)
    expect(acknowledged.length).toBeGreaterThan(300)
    for (const { line } of acknowledged) expect(counts.get(line)).toBe(1)
    const outcomeOf = new Map(sent.map((s) => [s.line, s]))
    for (const line of stored) {
      const s = outcomeOf.get(line)
      expect(s?.status === 200 || s?.status === 'cut').toBe(true)
    }
    expect(sent.filter((s) => s.status === 'cut').every((s) => s.replica === 2)).toBe(true)
    expect(sent.some((s) => s.status === 503)).toBe(true)

    // Request N met the fate one process with the same seed gives request N.
    const alone = startServer({ ...CHAOS, LOGFIRE_SEED: seed })
    const aloneUrl = await alone.listening
    const numbered = sent.filter((s) => typeof s.status === 'number' && s.request !== undefined && s.request > 0)
    const highest = Math.max(...numbered.map((s) => s.request as number))
    const fateAlone: number[] = []
    for (let n = 1; n <= highest; n++) fateAlone[n] = (await send(aloneUrl, `alone ${n}`)).status as number
    for (const s of numbered) expect(`${s.request as number}:${s.status}`).toBe(`${s.request as number}:${fateAlone[s.request as number]}`)

    // The viewer on C saw blocks posted to A before C died.
    const postedToA = new Set(sent.filter((s) => s.replica === 0 && s.status === 200).map((s) => s.line))
    expect(viewer.events.some((event) => event.event === 'block' && postedToA.has(event.data.data as string))).toBe(true)
    viewer.close()

    // A viewer on B resumes after a block, with Last-Event-ID, and sees A's burn.
    const resumed = openStream(`${b.url}/logs/stream`, { ...read, 'last-event-id': `0-${fromA.length - 2}` })
    await resumed.waitForEvents(1)
    expect(resumed.events[0]).toMatchObject({ id: `0-${fromA.length - 1}`, event: 'block' })
    const burn = await fetch(`${a.url}/logs`, { method: 'DELETE', headers: admin })
    expect(await burn.json()).toEqual({ burned: fromA.length - 1 })
    await resumed.waitForEvents(2)
    expect(resumed.events[1]).toMatchObject({ id: '1-0', event: 'burn', data: { burned: fromA.length - 1, reason: 'admin' } })
    resumed.close()

    // Three processes, 600 requests, a process alone replaying them: 5 to 6 s each here (35 to 40 s before a replica stopped stalling while it caught up).
  }, 150_000)
})
