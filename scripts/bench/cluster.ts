// The Redis Cluster's rows of `npm run bench` (docs/scaling.md): 100 fires
// on one Redis against the same load on a cluster of 3 masters (each with a
// replica), each node's share of Redis's CPU, what LOGFIRE_REDIS_WAIT costs,
// and batch ingest on the cluster against the memory backend.
import autocannon from 'autocannon'
import { privateCluster } from '../lib/redis-cluster.js'
import { hasRedis, privateRedis } from '../lib/redis-server.js'
import type { Server } from '../lib/processes.js'
import { createFires, type FireBenchTools, type NewFire } from './fires.js'

interface Load { rps: number, p99: number, non2xx: number }

const OPEN = { LOGFIRE_FIRES: 'open', LOGFIRE_FIRE_CREATE_RATE_LIMIT: '0', LOGFIRE_FIRE_RATE_LIMIT: '0', LOGFIRE_BURN_RATE: '0', LOGFIRE_FIRE_RATE: '0', LOGFIRE_MAX_FIRES: '200', LOGFIRE_FIRE_MAX_BYTES: String(64 * 1024 * 1024), LOGFIRE_MAX_CHAIN_BYTES: String(16 * 1024 * 1024 * 1024) }
const FIRES = 100

/** One-line POSTs, each connection going round every fire's token. */
function postToFires (fires: Map<Server, NewFire[]>, line: string, connections = 10) {
  return async (server: Server, seconds: number): Promise<Load> => {
    const tokens = fires.get(server) ?? []
    const result = await autocannon({
      url: `${server.url}/logs`,
      connections,
      duration: seconds,
      requests: tokens.map((fire) => ({ method: 'POST' as const, body: line, headers: { 'content-type': 'text/plain', authorization: `Bearer ${fire.ingestToken}` } }))
    })
    return { rps: result['2xx'] / result.duration, p99: result.latency.p99, non2xx: result.non2xx }
  }
}

async function usedMemory (url: string): Promise<number> {
  const { Redis } = await import('ioredis')
  const { redisOptions } = await import('../../src/chain/redis-link.js')
  const redis = new Redis(redisOptions(url))
  try {
    return Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0)
  } finally {
    await redis.quit()
  }
}

/** Each node's CPU seconds so far (used_cpu_user + used_cpu_sys). */
async function cpuSeconds (nodes: Array<{ cli: (...args: string[]) => Promise<string> }>): Promise<number[]> {
  return await Promise.all(nodes.map(async (node) => {
    const info = await node.cli('INFO', 'cpu')
    const value = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0)
    return value('used_cpu_user') + value('used_cpu_sys')
  }))
}

export async function clusterScenarios (tools: FireBenchTools, ports: number[], notes: string[]): Promise<void> {
  if (!hasRedis) {
    notes.push('redis-server is not installed (apt-get install -y redis-server): the Redis Cluster was not measured.')
    return
  }
  const { startLogfire, stop, alternate, record, fmt, line } = tools
  const [onePort = 0, clusterPort = 0, waitPort = 0, memoryPort = 0] = ports
  const single = await privateRedis()
  const cluster = await privateCluster({ masters: 3, replicas: 1 })
  const servers: Server[] = []
  try {
    const one = await startLogfire({ ...OPEN, LOGFIRE_REDIS_URL: single.url, LOGFIRE_REDIS_NAMESPACE: 'bench' }, onePort)
    servers.push(one)
    const onCluster = await startLogfire({ ...OPEN, LOGFIRE_REDIS_CLUSTER: cluster.seeds.join(','), LOGFIRE_REDIS_NAMESPACE: 'bench' }, clusterPort)
    servers.push(onCluster)
    // What a fire costs Redis: created, then fed one line.
    const usedBefore = await usedMemory(single.url)
    const fires = new Map([[one, await createFires(one, FIRES)], [onCluster, await createFires(onCluster, FIRES)]])
    for (const fire of fires.get(one) ?? []) {
      await (await fetch(`${one.url}/logs`, { method: 'POST', body: line, headers: { authorization: `Bearer ${fire.ingestToken}` } })).arrayBuffer()
    }
    const perFire = (await usedMemory(single.url) - usedBefore) / FIRES
    record({ scenario: 'C0. Redis memory per fire, created and fed one line', logfire: `${fmt(perFire / 1024, 1)} KB`, baseline: '', ratio: '', target: '', pass: undefined })

    // C1. 100 fires, one Redis against 3 masters, and where the cluster's Redis CPU went.
    const post = postToFires(fires, line)
    await post(one, 2)
    await post(onCluster, 2)
    const masters = []
    for (const node of cluster.nodes) if ((await node.cli('ROLE')).startsWith('master')) masters.push(node)
    // Where the cluster's Redis CPU goes, and how much an append costs it, over a run of its own.
    const cpuBefore = await cpuSeconds(masters)
    const alone = await post(onCluster, 5)
    const cpu = (await cpuSeconds(masters)).map((after, i) => after - (cpuBefore[i] ?? 0))
    const total = cpu.reduce((sum, seconds) => sum + seconds, 0)
    const shares = cpu.map((seconds) => seconds / total)
    record({ scenario: 'C1. Redis CPU per one-line append, over the cluster\'s masters', logfire: `${fmt(total / (alone.rps * 5) * 1e6, 1)} µs`, baseline: '', ratio: '', target: '', pass: undefined })
    const spread = await alternate(post, onCluster, one)
    record({
      scenario: `C1. POST one line to ${FIRES} fires, 10 conn: a 3-master cluster vs one Redis (each node's share of the cluster's Redis CPU)`,
      logfire: `${fmt(spread.ours.rps)} appends/s; ${shares.map((share) => `${fmt(share * 100)}%`).join(' / ')}`,
      baseline: `${fmt(spread.bare.rps)} appends/s`,
      ratio: fmt(spread.ratio, 2),
      target: 'each node 33% ± 10',
      pass: shares.every((share) => Math.abs(share - 1 / 3) <= 0.1)
    }, onCluster)

    // C2. What LOGFIRE_REDIS_WAIT=1 costs a single-line POST, on the same cluster.
    const waiting = await startLogfire({ ...OPEN, LOGFIRE_REDIS_CLUSTER: cluster.seeds.join(','), LOGFIRE_REDIS_NAMESPACE: 'bench-wait', LOGFIRE_REDIS_WAIT: '1' }, waitPort)
    servers.push(waiting)
    fires.set(waiting, await createFires(waiting, FIRES))
    await post(waiting, 2)
    const wait = await alternate(post, waiting, onCluster)
    record({
      scenario: `C2. POST one line to ${FIRES} fires, 10 conn, on the cluster: LOGFIRE_REDIS_WAIT=1 vs 0`,
      logfire: `${fmt(wait.ours.rps)} req/s`,
      baseline: `${fmt(wait.bare.rps)} req/s`,
      ratio: fmt(wait.ratio, 2),
      target: '(measured)',
      pass: undefined
    }, waiting)

    // C3. Batch ingest on the cluster (the public fire) against the memory backend, each slice on a fresh chain.
    const memory = await startLogfire({ LOGFIRE_MAX_BLOCKS: '10000000' }, memoryPort)
    servers.push(memory)
    const body = Array.from({ length: 1000 }, (_, i) => `{"level":30,"i":${i},"msg":"batch line"}`.padEnd(100, ' ')).join('\n')
    const batch = async (server: Server, seconds: number): Promise<Load> => {
      await (await fetch(`${server.url}/logs`, { method: 'DELETE', headers: { authorization: 'Bearer bench' } })).arrayBuffer()
      const result = await autocannon({ url: `${server.url}/logs`, method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' }, connections: 10, duration: seconds })
      return { rps: (result['2xx'] * 1000) / result.duration, p99: result.latency.p99, non2xx: result.non2xx }
    }
    await batch(onCluster, 2)
    await batch(memory, 2)
    const batchCpuBefore = await cpuSeconds(masters)
    const batchAlone = await batch(onCluster, 5)
    const batchCpu = (await cpuSeconds(masters)).reduce((sum, after, i) => sum + after - (batchCpuBefore[i] ?? 0), 0)
    record({ scenario: 'C3. Redis CPU per batched line, over the cluster\'s masters', logfire: `${fmt(batchCpu / (batchAlone.rps * 5) * 1e6, 2)} µs`, baseline: '', ratio: '', target: '', pass: undefined })
    const batched = await alternate(batch, onCluster, memory)
    record({ scenario: 'C3. Batch ingest, NDJSON 1,000 × 100 B, 10 conn: 1 replica on the cluster vs the memory backend', logfire: `${fmt(batched.ours.rps)} lines/s`, baseline: `${fmt(batched.bare.rps)} lines/s`, ratio: fmt(batched.ratio, 2), target: '≥ 0.5', pass: batched.ratio >= 0.5 }, onCluster)
  } finally {
    for (const server of servers) await stop(server)
    await cluster.remove()
    await single.remove()
  }
}
