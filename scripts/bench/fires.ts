// The fires' rows of `npm run bench` (docs/fires.md): what a created fire
// costs a POST, what an idle fire costs in memory, and whether a thousand
// fires under load stay within the budget and out of each other's way.
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { rssMb, type Server } from '../lib/processes.js'

export interface FireBenchTools {
  startLogfire: (env: Record<string, string>, port: number) => Promise<Server>
  stop: (server: Server) => Promise<unknown>
  /** Alternating slices of `measure` on two servers; ratio = median of ours / base. */
  alternate: (measure: (server: Server, seconds: number) => Promise<{ rps: number, p99: number, non2xx: number }>, ours: Server, base: Server) => Promise<{ ours: { rps: number }, bare: { rps: number }, ratio: number }>
  record: (row: { scenario: string, logfire: string, baseline: string, ratio: string, target: string, pass: boolean | undefined }, server?: Server) => void
  fmt: (n: number, digits?: number) => string
  line: string
  quick: boolean
}

export interface NewFire { id: string, ingestToken: string, viewToken: string }

const OPEN = { LOGFIRE_FIRES: 'open', LOGFIRE_FIRE_CREATE_RATE_LIMIT: '0', LOGFIRE_FIRE_RATE_LIMIT: '0', LOGFIRE_BURN_RATE: '0' }

/** Creates fires through POST /fires, one after another. */
export async function createFires (server: Server, count: number): Promise<NewFire[]> {
  const fires: NewFire[] = []
  for (let i = 0; i < count; i++) {
    const response = await fetch(`${server.url}/fires`, { method: 'POST' })
    if (response.status !== 201) throw new Error(`POST /fires: ${response.status} ${await response.text()}`)
    fires.push(await response.json() as NewFire)
  }
  return fires
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number
}

// Its own server, on a port of its own: its fire must be idle past the
// shortest LOGFIRE_FIRE_IDLE_SECONDS (60) before F4 measures, while F1-F3 run.
const REFUSALS_PORT_OFFSET = 30

/**
 * F4. One identical 401, in the same time: a token unknown, one of the wrong
 * scope (a real fire's view token on POST), and one whose fire has gone out.
 * The three are sent in turn, in a shuffled order each round, and their
 * median times compared.
 */
async function refusalTimes (tools: FireBenchTools, server: Server, goneOut: NewFire): Promise<void> {
  const [alight] = await createFires(server, 1) as [NewFire]
  const kinds = {
    unknown: `lf_ing_${'A'.repeat(48)}`,
    'wrong scope': alight.viewToken,
    'gone out': goneOut.ingestToken
  }
  const times = new Map<string, number[]>(Object.keys(kinds).map((kind) => [kind, []]))
  const rounds = tools.quick ? 1000 : 5000
  for (let round = 0; round < rounds + 100; round++) {
    const order = Object.entries(kinds).sort(() => Math.random() - 0.5)
    for (const [kind, token] of order) {
      const at = performance.now()
      const response = await fetch(`${server.url}/logs`, { method: 'POST', body: 'x', headers: { authorization: `Bearer ${token}` } })
      await response.arrayBuffer()
      if (response.status !== 401) throw new Error(`F4: ${kind} answered ${response.status}`)
      // The first rounds warm the process up.
      if (round >= 100) times.get(kind)?.push(performance.now() - at)
    }
  }
  const medians = [...times].map(([kind, values]) => [kind, percentile(values, 0.5)] as const)
  const unknown = medians[0]?.[1] as number
  const worst = Math.max(...medians.map(([, median]) => Math.abs(median / unknown - 1)))
  tools.record({ scenario: `F4. the 401's time: median of ${tools.fmt(rounds)} each, in a shuffled order`, logfire: medians.slice(1).map(([kind, median]) => `${kind} ${tools.fmt(median * 1000)} µs`).join(', '), baseline: `unknown ${tools.fmt(unknown * 1000)} µs`, ratio: tools.fmt(1 + worst, 3), target: 'within 5%', pass: worst <= 0.05 }, server)
}

export async function fireScenarios (tools: FireBenchTools, ports: [number, number]): Promise<void> {
  const { startLogfire, stop } = tools
  const refusals = await startLogfire({ ...OPEN, LOGFIRE_FIRE_IDLE_SECONDS: '60' }, ports[1] + REFUSALS_PORT_OFFSET)
  const [goneOut] = await createFires(refusals, 1) as [NewFire]
  const goesOutAt = Date.now() + 61_000
  try {
    await busyFires(tools, ports)
    await sleep(Math.max(0, goesOutAt - Date.now()))
    await refusalTimes(tools, refusals, goneOut)
  } finally {
    await stop(refusals)
  }
}

async function busyFires (tools: FireBenchTools, ports: [number, number]): Promise<void> {
  const { startLogfire, stop, alternate, record, fmt, line } = tools

  // F1. A one-line POST to a created fire against the same POST in single mode.
  // The same chain budget on both, large enough that neither burns during the run.
  const single = await startLogfire({ LOGFIRE_MAX_BLOCKS: '10000000', LOGFIRE_MAX_CHAIN_BYTES: String(512 * 2 ** 20) }, ports[0])
  const open = await startLogfire({ ...OPEN, LOGFIRE_MAX_BLOCKS: '10000000', LOGFIRE_MAX_FIRES: '1', LOGFIRE_FIRE_MAX_BYTES: String(512 * 2 ** 20), LOGFIRE_MAX_CHAIN_BYTES: String(1024 * 2 ** 20) }, ports[1])
  try {
    const [fire] = await createFires(open, 1) as [NewFire]
    const post = (server: Server, seconds: number) => autocannon({
      url: `${server.url}/logs`,
      method: 'POST',
      body: line,
      headers: { 'content-type': 'text/plain', ...(server === open ? { authorization: `Bearer ${fire.ingestToken}` } : {}) },
      connections: 10,
      duration: seconds
    }).then((result) => ({ rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx }))
    await post(single, 1)
    await post(open, 1)
    const { ours, bare, ratio } = await alternate(post, open, single)
    record({ scenario: 'F1. one-line POST to a created fire, against the same POST in single mode (10 connections)', logfire: `${fmt(ours.rps)} req/s`, baseline: `${fmt(bare.rps)} req/s`, ratio: fmt(ratio, 2), target: '≥ 0.97', pass: ratio >= 0.97 }, open)
  } finally {
    await stop(single)
    await stop(open)
  }

  // F2. The memory of 10,000 idle fires: created and never fed (the registry
  // alone: a fire is kindled at its first use), then fed one line each.
  const count = tools.quick ? 2000 : 10_000
  for (const fed of [false, true]) {
    const idle = await startLogfire({ ...OPEN, LOGFIRE_MAX_FIRES: String(count), LOGFIRE_FIRE_MAX_BYTES: '65536', LOGFIRE_MAX_CHAIN_BYTES: String(count * 65536 + 64 * 2 ** 20) }, ports[0])
    try {
      const feed = async (fires: NewFire[]) => {
        if (!fed) return
        for (const fire of fires) await (await fetch(`${idle.url}/logs`, { method: 'POST', body: line, headers: { authorization: `Bearer ${fire.ingestToken}` } })).arrayBuffer()
      }
      await feed(await createFires(idle, 50))
      await sleep(1000)
      const before = rssMb(idle.pid)
      await feed(await createFires(idle, count - 50))
      await sleep(2000)
      const perFire = (rssMb(idle.pid) - before) * 1024 / (count - 50)
      // A fed fire's chain: its first segment (1 KiB) and two offset arrays of 16 doubles.
      const chainKb = fed ? (1024 + 2 * 16 * 8) / 1024 : 0
      record({ scenario: `F2. RSS of ${fmt(count)} idle fires, each: ${fed ? 'fed one line, then idle' : 'created, never fed'}`, logfire: `${fmt(perFire, 1)} KB${fed ? ` (of which its chain ${fmt(chainKb, 1)} KB)` : ''}`, baseline: '', ratio: '', target: '≤ 5 KB beyond its chain', pass: perFire - chainKb <= 5 }, idle)
    } finally {
      await stop(idle)
    }
  }

  // F3. 1,000 fires under mixed load: writes and reads spread over every
  // fire, while a probe times requests to a sample of them; against the same
  // load and probe on one fire.
  const budget = 1000 * 262_144 + 64 * 2 ** 20
  const probe = async (server: Server, fires: NewFire[], loadFires: NewFire[]): Promise<{ p99ByFire: number[], rss: number }> => {
    let next = 0
    const load = autocannon({
      url: `${server.url}/logs`,
      connections: 10,
      duration: tools.quick ? 5 : 15,
      requests: [{
        setupRequest: (request) => {
          const fire = loadFires[next++ % loadFires.length] as NewFire
          // One request in four reads the fire's last blocks; the others write.
          const read = next % 4 === 0
          return { ...request, method: read ? 'GET' : 'POST', path: read ? '/logs?from=1000000' : '/logs', body: read ? undefined : line, headers: { 'content-type': 'text/plain', authorization: `Bearer ${read ? fire.viewToken : fire.ingestToken}` } }
        }
      }]
    })
    const times = new Map<string, number[]>(fires.map((fire) => [fire.id, []]))
    let peakRss = rssMb(server.pid)
    const started = performance.now()
    while (performance.now() - started < (tools.quick ? 4000 : 14_000)) {
      for (const fire of fires) {
        const at = performance.now()
        await (await fetch(`${server.url}/logs`, { method: 'POST', body: line, headers: { authorization: `Bearer ${fire.ingestToken}` } })).arrayBuffer()
        times.get(fire.id)?.push(performance.now() - at)
      }
      peakRss = Math.max(peakRss, rssMb(server.pid))
    }
    await load
    return { p99ByFire: [...times.values()].map((values) => percentile(values, 0.99)), rss: peakRss }
  }
  const many = await startLogfire({ ...OPEN, LOGFIRE_MAX_FIRES: '1000', LOGFIRE_FIRE_MAX_BYTES: '262144', LOGFIRE_MAX_CHAIN_BYTES: String(budget) }, ports[0])
  try {
    const fires = await createFires(many, 1000)
    const sample = fires.filter((_, i) => i % 50 === 0)
    const one = await probe(many, [fires[1] as NewFire], [fires[1] as NewFire])
    const spread = await probe(many, sample, fires)
    const worst = Math.max(...spread.p99ByFire)
    const oneP99 = one.p99ByFire[0] as number
    const withinBudget = spread.rss <= budget / 2 ** 20 + 200
    record({ scenario: 'F3. 1,000 fires under mixed load (3 writes to 1 read, 10 connections): the worst sampled fire\'s p99 against one fire\'s under the same load; peak RSS', logfire: `${fmt(worst, 1)} ms, peak ${fmt(spread.rss)} MB`, baseline: `${fmt(oneP99, 1)} ms`, ratio: fmt(worst / oneP99, 2), target: `≤ 2, RSS ≤ ${fmt(budget / 2 ** 20 + 200)} MB (budget + 200)`, pass: worst <= 2 * oneP99 && withinBudget }, many)
  } finally {
    await stop(many)
  }
}
