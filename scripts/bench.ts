// npm run bench [-- --quick] [-- --out docs/benchmarks.md]
//
// logfire as a real process (the built dist/server.js, default logging, chaos
// and rate limit off) against a bare Fastify route started in the same run,
// alternately, on loopback only. Prints one markdown table of ratios against
// that baseline, because timings on a shared machine only mean something
// next to a baseline measured at the same moment.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import autocannon from 'autocannon'
import { request as httpRequest } from 'node:http'
import { once } from 'node:events'
import { connect } from 'node:net'
import { encode } from '@msgpack/msgpack'
import { flood } from './lib/flood.js'
import { peaksByThird, rssMb, startFlags, startServer, stop, type Server } from './lib/processes.js'
import { clusterScenarios } from './bench/cluster.js'
import { fireScenarios } from './bench/fires.js'
import { costLedger, hasValgrind } from './bench/ledger.js'
import { Redis } from 'ioredis'
import { hasRedis, privateRedis } from './lib/redis-server.js'
import { loadOtlpSchema } from '../src/shippers/otlp/schema.js'

const execFileAsync = promisify(execFile)
const QUICK = process.argv.includes('--quick')
// --only redis, --only cluster, --only faults, --only startup, --only protocols, --only streams, --only cost, --only fires: just those rows;
// --only targets: the speed and memory targets of docs/benchmarks.md (one-line POSTs, the 304, batch ingest, RSS);
// --only core: a one-line POST against its core work in a bare route (scripts/bench/core.mjs).
const ONLY = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined
const OUT = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : undefined
const SECONDS = QUICK ? 1 : 10
const ROUNDS = QUICK ? 1 : 2
// Below the kernel's ephemeral range (32768 and up on Linux): a health
// check polling a port there before its server listens can be given that
// very port as its own, connect to itself, and leave the server EADDRINUSE.
const LOGFIRE_PORT = 29401
const BARE_PORT = 29402
const SMALL_CHAIN_PORT = 29403
const CORE_PORT = 29404
const LINE = 'app[4242]: user=tom action=login result=ok ip=198.51.100.7 took=12ms '.padEnd(80, '.')

interface Row { scenario: string, logfire: string, baseline: string, ratio: string, target: string, pass: boolean | undefined, rss: string }
const rows: Row[] = []
const notes: string[] = []

// ---------------------------------------------------------------- processes

function startLogfire (env: Record<string, string> = {}, port = LOGFIRE_PORT): Promise<Server> {
  return startServer('dist/server.js', port, {
    LOGFIRE_FIRE_RATE: '0',
    LOGFIRE_WIPE_RATE: '0',
    LOGFIRE_RATE_LIMIT: '0',
    LOGFIRE_ADMIN_TOKEN: 'bench',
    LOGFIRE_ADMIN_RATE_LIMIT: '0',
    ...env
  }, startFlags())
}

/** Samples a process's RSS every 100 ms while `work` runs; returns the peak. */
async function peakRssDuring<T> (pid: number, work: () => Promise<T>): Promise<{ result: T, peak: number }> {
  let peak = rssMb(pid)
  const timer = setInterval(() => { peak = Math.max(peak, rssMb(pid)) }, 100)
  try {
    const result = await work()
    return { result, peak: Math.max(peak, rssMb(pid)) }
  } finally {
    clearInterval(timer)
  }
}

// ------------------------------------------------------------------ clients

interface Load { rps: number, p99: number, non2xx: number }

async function cannon (options: autocannon.Options): Promise<Load> {
  const result = await autocannon({ duration: SECONDS, ...options })
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx }
}

/**
 * wrk, a load generator in C: about 20 µs of CPU a request on this machine,
 * where autocannon takes about 40. For the rows where the client's own work
 * would decide the result. One thread unless told.
 */
async function wrk (url: string, connections: number, seconds: number, options: { threads?: number, script?: string } = {}): Promise<Load> {
  // wrk counts time in whole seconds.
  const args = ['-t', String(options.threads ?? 1), '-c', String(connections), '-d', `${Math.max(1, Math.round(seconds))}s`, '--latency']
  if (options.script !== undefined) args.push('-s', options.script)
  const { stdout: output } = await execFileAsync('wrk', [...args, url], { encoding: 'utf8' })
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? 0)
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(output)
  const scale = { us: 0.001, ms: 1, s: 1000 } as const
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0)
  return { rps, p99: p99 === null ? NaN : Number(p99[1]) * scale[p99[2] as keyof typeof scale], non2xx }
}

/** A wrk script that POSTs one body, in `dir`; JSON's string escapes are Lua's for ASCII. */
function wrkPostScript (dir: string, body: string, contentType: string): string {
  const file = join(dir, 'post.lua')
  writeFileSync(file, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = ${JSON.stringify(contentType)}\n`)
  return file
}

/** One request with curl: time to first and to last byte, in ms. */
function timeRequest (url: string): { ttfb: number, total: number } {
  const out = execFileSync('curl', ['-s', '-o', '/dev/null', '-w', '%{time_starttransfer} %{time_total}', url], { encoding: 'utf8' })
  const [ttfb, total] = out.trim().split(' ').map((s) => Number(s) * 1000)
  return { ttfb: ttfb as number, total: total as number }
}

/** Median of five single requests with curl: time to first and to last byte, in ms. */
function oneRequest (url: string): { ttfb: number, total: number } {
  const runs = Array.from({ length: 5 }, () => timeRequest(url))
  return { ttfb: median(runs.map((r) => r.ttfb)), total: median(runs.map((r) => r.total)) }
}

/**
 * Single requests to two servers taking turns, who goes first alternating
 * too, as the slices of `alternate` do: the median time of each, and the
 * median ratio of adjacent pairs. One server's turn never lands on a slow
 * moment of the machine alone.
 */
function alternateRequests (ours: string, base: string, pairs = 9): { ours: number, base: number, ratio: number } {
  const o: number[] = []
  const b: number[] = []
  for (let pair = 0; pair < pairs; pair++) {
    if (pair % 2 === 0) {
      o.push(timeRequest(ours).total)
      b.push(timeRequest(base).total)
    } else {
      b.push(timeRequest(base).total)
      o.push(timeRequest(ours).total)
    }
  }
  return { ours: median(o), base: median(b), ratio: median(o.map((time, i) => time / (b[i] as number))) }
}

const hasWrk = (() => { try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }); return true } catch (error) { return (error as { status?: number }).status === 1 } })()

// ------------------------------------------------------------------ helpers

const fmt = (n: number, digits = 0) => Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a'

function record (row: Omit<Row, 'rss'>, server?: Server): void {
  const full = { ...row, rss: server === undefined ? '' : `${fmt(rssMb(server.pid))} MB` }
  rows.push(full)
  const mark = full.pass === undefined ? '' : full.pass ? 'pass' : 'FAIL'
  console.error(`  ${full.scenario}: ${full.logfire} vs ${full.baseline} (${full.ratio}) ${mark}`)
}

function ratioRow (scenario: string, ours: number, base: number, min: number, unit: string, server: Server, extra = '', ratio = ours / base): void {
  record({ scenario, logfire: `${fmt(ours)} ${unit}${extra}`, baseline: `${fmt(base)} ${unit}`, ratio: fmt(ratio, 2), target: `≥ ${min}`, pass: ratio >= min }, server)
}

async function resetChain (server: Server): Promise<void> {
  await (await fetch(`${server.url}/logs`, { method: 'DELETE', headers: { authorization: 'Bearer bench' } })).arrayBuffer()
}

/** Appends `count` lines in batches of 1,000, as a shipper would. */
async function fill (server: Server, count: number, line = LINE): Promise<void> {
  const batch = Array.from({ length: 1000 }, () => line).join('\n')
  for (let sent = 0; sent < count; sent += 1000) {
    const body = sent + 1000 <= count ? batch : Array.from({ length: count - sent }, () => line).join('\n')
    const response = await fetch(`${server.url}/logs`, { method: 'POST', body, headers: { 'content-type': 'text/plain' } })
    // Always read the answer: an unread body keeps the request open on the server.
    const answer = await response.text()
    if (response.status !== 200) throw new Error(`fill: ${response.status} ${answer}`)
  }
}

// Small requests are measured in slices: logfire and the baseline take turns
// every SLICE_SECONDS, SLICES turns per round, so both see the same moments of
// a machine whose speed drifts from second to second. The ratio is the median
// of the ratios of adjacent slices; req/s and p99 are the medians of the slices.
const SLICE_SECONDS = QUICK ? 0.5 : 2
const SLICES = QUICK ? 1 : SECONDS / SLICE_SECONDS
// Warm-ups before each measured scenario; --quick keeps them short to stay under a minute.
const WARM_UP_SECONDS = QUICK ? 0.5 : 3
// --quick measures small requests at 10 connections only.
const CONNECTIONS = QUICK ? [10] : [10, 100]

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2
}

async function alternate (measure: (server: Server, seconds: number) => Promise<Load>, ours: Server, bare: Server): Promise<{ ours: Load, bare: Load, ratio: number }> {
  const o: Load[] = []
  const b: Load[] = []
  for (let slice = 0; slice < ROUNDS * SLICES; slice++) {
    // Who goes first alternates too, so neither always follows the other.
    if (slice % 2 === 0) {
      o.push(await measure(ours, SLICE_SECONDS))
      b.push(await measure(bare, SLICE_SECONDS))
    } else {
      b.push(await measure(bare, SLICE_SECONDS))
      o.push(await measure(ours, SLICE_SECONDS))
    }
  }
  const summary = (loads: Load[]): Load => ({ rps: median(loads.map((l) => l.rps)), p99: median(loads.map((l) => l.p99)), non2xx: loads.reduce((sum, l) => sum + l.non2xx, 0) })
  return { ours: summary(o), bare: summary(b), ratio: median(o.map((load, i) => load.rps / (b[i] as Load).rps)) }
}

const postLine = (connections: number) => (server: Server, seconds: number) =>
  cannon({ url: `${server.url}/logs`, method: 'POST', body: LINE, headers: { 'content-type': 'text/plain' }, connections, duration: seconds })

// ---------------------------------------------------------------- scenarios

async function postScenarios (bare: Server, logLevel: 'info' | 'warn', minRatio: number): Promise<Record<number, number>> {
  const logfire = await startLogfire({ LOG_LEVEL: logLevel, LOGFIRE_MAX_BLOCKS: '10000000' })
  const postOnly: Record<number, number> = {}
  try {
    await cannon({ url: `${logfire.url}/logs`, method: 'POST', body: LINE, connections: 10, duration: WARM_UP_SECONDS })
    await cannon({ url: `${bare.url}/logs`, method: 'POST', body: LINE, connections: 10, duration: WARM_UP_SECONDS })
    for (const connections of CONNECTIONS) {
      const { ours, bare: base, ratio } = await alternate(postLine(connections), logfire, bare)
      postOnly[connections] = ours.rps
      ratioRow(`1. POST one 80-byte line, ${connections} conn, LOG_LEVEL=${logLevel}`, ours.rps, base.rps, minRatio, 'req/s', logfire, `, p99 ${ours.p99} ms`, ratio)
    }

    // 4. Conditional GET: a 304 never touches the chain, whatever its size.
    // Issue 28 asks 0.75 of it at either level, not the POST's 0.6 at info.
    const minRatio304 = 0.75
    await resetChain(logfire)
    await fill(logfire, 100_000)
    const head = await fetch(`${logfire.url}/logs`, { method: 'HEAD' })
    await head.arrayBuffer()
    const etag = head.headers.get('etag') as string
    for (const connections of CONNECTIONS) {
      const { ours, bare: base, ratio } = await alternate(
        (server, seconds) => server === logfire
          ? cannon({ url: `${logfire.url}/logs`, headers: { 'if-none-match': etag }, connections, duration: seconds })
          : postLine(connections)(server, seconds),
        logfire, bare)
      // autocannon counts a 304 as non-2xx; req/s counts every reply.
      ratioRow(`4. GET /logs If-None-Match → 304 at 100k blocks, ${connections} conn, LOG_LEVEL=${logLevel}`, ours.rps, base.rps, minRatio304, 'req/s', logfire, `, p99 ${ours.p99} ms`, ratio)
    }
  } finally {
    await stop(logfire)
  }
  return postOnly
}

/**
 * 1c and 1d: the one-line POST against a second baseline, the work it cannot
 * skip in a bare route (scripts/bench/core.mjs): what that work costs, and
 * what everything else in logfire costs on top of it. No targets: they say
 * how much of the gap to the bare route is in reach.
 */
async function coreScenario (bare: Server): Promise<void> {
  const core = await startServer('scripts/bench/core.mjs', CORE_PORT)
  const logfire = await startLogfire({ LOG_LEVEL: 'warn', LOGFIRE_MAX_BLOCKS: '10000000' })
  try {
    for (const server of [core, logfire, bare]) await postLine(10)(server, WARM_UP_SECONDS)
    const inherent = await alternate(postLine(10), core, bare)
    record({ scenario: '1c. POST one 80-byte line, 10 conn: its core work in a bare route (parse, hash, store, the same answer) vs bare', logfire: `${fmt(inherent.ours.rps)} req/s`, baseline: `${fmt(inherent.bare.rps)} req/s`, ratio: fmt(inherent.ratio, 2), target: '', pass: undefined }, core)
    const rest = await alternate(postLine(10), logfire, core)
    record({ scenario: '1d. POST one 80-byte line, 10 conn, LOG_LEVEL=warn: logfire vs its core work in a bare route', logfire: `${fmt(rest.ours.rps)} req/s`, baseline: `${fmt(rest.bare.rps)} req/s`, ratio: fmt(rest.ratio, 2), target: '', pass: undefined }, logfire)
  } finally {
    await stop(logfire)
    await stop(core)
  }
}

async function batchScenario (): Promise<void> {
  const logfire = await startLogfire({ LOGFIRE_MAX_BLOCKS: '100000' })
  try {
    const body = Array.from({ length: 1000 }, (_, i) => `{"level":30,"i":${i},"msg":"batch line"}`.padEnd(100, ' ')).join('\n')
    const batches = { url: `${logfire.url}/logs`, method: 'POST' as const, body, headers: { 'content-type': 'application/x-ndjson' }, connections: 10 }
    // A warm-up, as for every other scenario: the JIT and the first chain's fresh memory.
    await autocannon({ ...batches, duration: WARM_UP_SECONDS })
    const result = await autocannon({ ...batches, duration: SECONDS })
    // Burns at the memory budget answer 410 and append nothing: only 200s count.
    const appended = (result['2xx'] * 1000) / (result.duration)
    record({ scenario: '2. Batch ingest, NDJSON 1,000 × 100 B, 10 conn', logfire: `${fmt(appended)} lines/s, p99 ${result.latency.p99} ms`, baseline: '', ratio: '', target: '≥ 250,000 lines/s', pass: appended >= 250_000 }, logfire)
  } finally {
    await stop(logfire)
  }
}

// 13. The same 1,000 lines of 100 B through _bulk and OTLP protobuf as through
// NDJSON on /logs, in alternating slices on one server: lines/s, as a ratio.
async function protocolScenarios (): Promise<void> {
  const logfire = await startLogfire({ LOGFIRE_MAX_BLOCKS: '100000' })
  try {
    const docs = Array.from({ length: 1000 }, (_, i) => `{"level":30,"i":${i},"msg":"batch line"}`.padEnd(100, ' '))
    const ndjson = { url: `${logfire.url}/logs`, body: docs.join('\n'), type: 'application/x-ndjson' }
    const otlp = loadOtlpSchema()
    const protocols = [
      { name: 'Elasticsearch _bulk, 1,000 documents', url: `${logfire.url}/es/_bulk`, type: 'application/x-ndjson', body: docs.map((doc) => `{"index":{"_index":"bench"}}\n${doc.trimEnd()}\n`).join('') },
      {
        name: 'OTLP protobuf, 1,000 records',
        url: `${logfire.url}/v1/logs`,
        type: 'application/x-protobuf',
        body: Buffer.from(otlp.request.encode(otlp.request.fromObject({
          resourceLogs: [{
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
            scopeLogs: [{ scope: { name: 'bench' }, logRecords: docs.map((doc, i) => ({ timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i)), severityNumber: 9, severityText: 'INFO', body: { stringValue: doc.trimEnd() } })) }]
          }]
        })).finish())
      }
    ]
    const linesPerSecond = async (target: { url: string, body: string | Buffer, type: string }, seconds: number): Promise<Load> => {
      const result = await autocannon({ url: target.url, method: 'POST', body: target.body, headers: { 'content-type': target.type }, connections: 10, duration: seconds })
      // Burns at LOGFIRE_MAX_BLOCKS answer 410 and append nothing: only 2xx count.
      return { rps: (result['2xx'] * 1000) / result.duration, p99: result.latency.p99, non2xx: result.non2xx }
    }
    for (const protocol of protocols) {
      const check = await fetch(protocol.url, { method: 'POST', body: protocol.body, headers: { 'content-type': protocol.type } })
      await check.arrayBuffer()
      if (check.status !== 200) throw new Error(`${protocol.name}: ${check.status}`)
      await linesPerSecond(protocol, WARM_UP_SECONDS)
      await linesPerSecond(ndjson, WARM_UP_SECONDS)
      const ours: Load[] = []
      const base: Load[] = []
      for (let slice = 0; slice < ROUNDS * SLICES; slice++) {
        if (slice % 2 === 0) { ours.push(await linesPerSecond(protocol, SLICE_SECONDS)); base.push(await linesPerSecond(ndjson, SLICE_SECONDS)) } else { base.push(await linesPerSecond(ndjson, SLICE_SECONDS)); ours.push(await linesPerSecond(protocol, SLICE_SECONDS)) }
      }
      const ratio = median(ours.map((load, i) => load.rps / (base[i] as Load).rps))
      record({
        scenario: `13. Batch ingest, ${protocol.name}, 10 conn`,
        logfire: `${fmt(median(ours.map((load) => load.rps)))} lines/s, p99 ${median(ours.map((load) => load.p99))} ms`,
        baseline: `NDJSON on /logs: ${fmt(median(base.map((load) => load.rps)))} lines/s`,
        ratio: fmt(ratio, 2),
        target: '≥ 0.5',
        pass: ratio >= 0.5
      }, logfire)
    }
  } finally {
    await stop(logfire)
  }
}

// 14. Syslog over TCP, octet-counted, 200-byte messages written pre-framed
// over one connection as fast as logfire reads them, against NDJSON batches
// of the same lines on POST /logs, in alternating slices on one server. A
// stream has no per-request cost: it should beat HTTP.
async function streamScenario (): Promise<void> {
  const syslogPort = LOGFIRE_PORT + 20
  const relpPort = LOGFIRE_PORT + 21
  const forwardPort = LOGFIRE_PORT + 22
  const logfire = await startLogfire({ LOGFIRE_SYSLOG_TCP_PORT: String(syslogPort), LOGFIRE_RELP_PORT: String(relpPort), LOGFIRE_FORWARD_PORT: String(forwardPort), LOGFIRE_MAX_BLOCKS: '1000000' })
  try {
    const message = '<13>1 2026-12-06T10:00:00.000Z bench app - - - '.padEnd(200, 'x')
    const framed = Buffer.from(`${message.length} ${message}`.repeat(5000))
    // The same message as a JSON document: NDJSON lines must be JSON.
    const ndjson = { url: `${logfire.url}/logs`, body: Array.from({ length: 1000 }, () => JSON.stringify({ message })).join('\n'), type: 'application/x-ndjson' }
    // Messages stored, not read: a burn at the budget stores nothing, as a 410 counts for nothing on HTTP.
    const stored = async (protocol = 'syslog-tcp'): Promise<number> => {
      const metrics = await (await fetch(`${logfire.url}/metrics`)).text()
      return Number(new RegExp(`logfire_stream_messages_total\\{protocol="${protocol}",outcome="stored"\\} (\\d+)`).exec(metrics)?.[1] ?? 0)
    }
    // RELP as librelp sends it: a window of 128 frames without their rsp, one more for each rsp.
    const relp = async (seconds: number): Promise<Load> => {
      const socket = connect(relpPort, '127.0.0.1')
      socket.on('error', () => {})
      await once(socket, 'connect')
      let txnr = 1
      const frame = (command: string, data: string): string => `${txnr++} ${command} ${Buffer.byteLength(data)} ${data}\n`
      socket.write(frame('open', 'relp_version=0\nrelp_software=logfire-bench\ncommands=syslog'))
      const before = await stored('relp')
      const began = performance.now()
      const end = began + seconds * 1000
      let open = false
      const send = (count: number): void => {
        let batch = ''
        for (let i = 0; i < count; i++) batch += frame('syslog', message)
        socket.write(batch)
      }
      socket.on('data', (chunk: Buffer) => {
        let answered = 0
        for (let at = chunk.indexOf(' rsp '); at !== -1; at = chunk.indexOf(' rsp ', at + 5)) answered++
        if (!open) {
          open = true
          answered -= 1
          send(128)
        }
        if (answered > 0 && performance.now() < end) send(answered)
      })
      await sleep(seconds * 1000)
      const rps = ((await stored('relp')) - before) / ((performance.now() - began) / 1000)
      socket.resetAndDestroy()
      return { rps, p99: 0, non2xx: 0 }
    }
    const streamed = async (seconds: number): Promise<Load> => {
      const socket = connect(syslogPort, '127.0.0.1')
      socket.on('error', () => {})
      await once(socket, 'connect')
      const before = await stored()
      const began = performance.now()
      const end = began + seconds * 1000
      while (performance.now() < end) {
        if (!socket.write(framed)) await Promise.race([once(socket, 'drain'), sleep(Math.max(0, end - performance.now()))])
      }
      const rps = ((await stored()) - before) / ((performance.now() - began) / 1000)
      // What is still in flight is thrown away, not left for the next slice to count.
      socket.resetAndDestroy()
      return { rps, p99: 0, non2xx: 0 }
    }
    const batches = async (seconds: number): Promise<Load> => {
      const result = await autocannon({ url: ndjson.url, method: 'POST', body: ndjson.body, headers: { 'content-type': ndjson.type }, connections: 10, duration: seconds })
      return { rps: (result['2xx'] * 1000) / result.duration, p99: result.latency.p99, non2xx: result.non2xx }
    }
    await streamed(WARM_UP_SECONDS)
    await batches(WARM_UP_SECONDS)
    const ours: Load[] = []
    const base: Load[] = []
    for (let slice = 0; slice < ROUNDS * SLICES; slice++) {
      if (slice % 2 === 0) { ours.push(await streamed(SLICE_SECONDS)); base.push(await batches(SLICE_SECONDS)) } else { base.push(await batches(SLICE_SECONDS)); ours.push(await streamed(SLICE_SECONDS)) }
    }
    const ratio = median(ours.map((load, i) => load.rps / (base[i] as Load).rps))
    // RELP against the same syslog sender, in alternating slices.
    await relp(WARM_UP_SECONDS)
    const relpLoads: Load[] = []
    const plainLoads: Load[] = []
    for (let slice = 0; slice < ROUNDS * SLICES; slice++) {
      if (slice % 2 === 0) { relpLoads.push(await relp(SLICE_SECONDS)); plainLoads.push(await streamed(SLICE_SECONDS)) } else { plainLoads.push(await streamed(SLICE_SECONDS)); relpLoads.push(await relp(SLICE_SECONDS)) }
    }
    const relpRatio = median(relpLoads.map((load, i) => load.rps / (plainLoads[i] as Load).rps))
    // Forward, PackedForward with acks: 1,000 events of 200 B a chunk, 10 connections, each sending its next chunk once the last is acknowledged.
    const packedChunk = Buffer.concat(Array.from({ length: 1000 }, (_, i) => encode([1_700_000_000 + i, { message }])))
    const forwardMessage = Buffer.from(encode(['bench', packedChunk, { chunk: 'bench-chunk-0001', size: 1000 }]))
    const forward = async (seconds: number): Promise<Load> => {
      const before = await stored('forward')
      const began = performance.now()
      const end = began + seconds * 1000
      const sockets = await Promise.all(Array.from({ length: 10 }, async () => {
        const socket = connect(forwardPort, '127.0.0.1')
        socket.on('error', () => {})
        await once(socket, 'connect')
        socket.on('data', () => { if (performance.now() < end) socket.write(forwardMessage) })
        socket.write(forwardMessage)
        return socket
      }))
      await sleep(seconds * 1000)
      const rps = ((await stored('forward')) - before) / ((performance.now() - began) / 1000)
      for (const socket of sockets) socket.resetAndDestroy()
      return { rps, p99: 0, non2xx: 0 }
    }
    await forward(WARM_UP_SECONDS)
    const forwardLoads: Load[] = []
    const batchLoads: Load[] = []
    for (let slice = 0; slice < ROUNDS * SLICES; slice++) {
      if (slice % 2 === 0) { forwardLoads.push(await forward(SLICE_SECONDS)); batchLoads.push(await batches(SLICE_SECONDS)) } else { batchLoads.push(await batches(SLICE_SECONDS)); forwardLoads.push(await forward(SLICE_SECONDS)) }
    }
    const forwardRatio = median(forwardLoads.map((load, i) => load.rps / (batchLoads[i] as Load).rps))
    record({
      scenario: '14. Forward, PackedForward with acks, 1,000 × 200 B events a chunk, 10 conn',
      logfire: `${fmt(median(forwardLoads.map((load) => load.rps)))} events/s`,
      baseline: `NDJSON 1,000 × 200 B on /logs, 10 conn: ${fmt(median(batchLoads.map((load) => load.rps)))} lines/s`,
      ratio: fmt(forwardRatio, 2),
      target: '≥ 1.0',
      pass: forwardRatio >= 1
    }, logfire)
    record({
      scenario: '14. RELP, rsyslog\'s default window of 128, 200 B messages, one session',
      logfire: `${fmt(median(relpLoads.map((load) => load.rps)))} lines/s`,
      baseline: `syslog over TCP, one connection: ${fmt(median(plainLoads.map((load) => load.rps)))} lines/s`,
      ratio: fmt(relpRatio, 2),
      target: '≥ 0.5',
      pass: relpRatio >= 0.5
    }, logfire)
    record({
      scenario: '14. Syslog over TCP, octet-counted, 200 B messages, one connection',
      logfire: `${fmt(median(ours.map((load) => load.rps)))} lines/s`,
      baseline: `NDJSON 1,000 × 200 B on /logs, 10 conn: ${fmt(median(base.map((load) => load.rps)))} lines/s`,
      ratio: fmt(ratio, 2),
      target: '≥ 1.0',
      pass: ratio >= 1
    }, logfire)
  } finally {
    await stop(logfire)
  }
}

async function readScenarios (bare: Server, postOnly10: number): Promise<void> {
  const logfire = await startLogfire({ LOGFIRE_MAX_BLOCKS: '10000000' })
  let wholeChainMs = NaN
  try {
    for (const size of [1_000, 10_000, 100_000]) {
      await resetChain(logfire)
      await fill(logfire, size)
      const body = await (await fetch(`${logfire.url}/logs`)).text()
      await (await fetch(`${bare.url}/payload`, { method: 'PUT', body, headers: { 'content-type': 'text/plain' } })).arrayBuffer()
      const mb = fmt(Buffer.byteLength(body) / 1e6, 1)

      const ours = oneRequest(`${logfire.url}/logs`)
      const base = oneRequest(`${bare.url}/logs`)
      wholeChainMs = ours.total
      const ratio = ours.total / base.total
      record({
        scenario: `3. GET whole chain, ${fmt(size)} blocks (${mb} MB), one request`,
        logfire: `${fmt(ours.total, 1)} ms (first byte ${fmt(ours.ttfb, 1)} ms)`,
        baseline: `${fmt(base.total, 1)} ms (first byte ${fmt(base.ttfb, 1)} ms)`,
        ratio: fmt(ratio, 2),
        target: '≤ 1.3',
        pass: ratio <= 1.3
      }, logfire)

      if (!hasWrk) {
        notes.push('wrk is not installed (apt-get install -y wrk): the 10-connection big-body reads were not measured.')
        continue
      }
      const idle = rssMb(logfire.pid)
      const reads = await peakRssDuring(logfire.pid, async () => {
        let best: { ours: Load, bare: Load } | undefined
        for (let round = 0; round < ROUNDS; round++) {
          const o = await wrk(`${logfire.url}/logs`, 10, SECONDS, { threads: 2 })
          const b = await wrk(`${bare.url}/logs`, 10, SECONDS, { threads: 2 })
          best = best === undefined ? { ours: o, bare: b } : { ours: o.rps > best.ours.rps ? o : best.ours, bare: b.rps > best.bare.rps ? b : best.bare }
        }
        return best as { ours: Load, bare: Load }
      })
      ratioRow(`3. GET whole chain, ${fmt(size)} blocks, 10 conn (wrk)`, reads.result.ours.rps, reads.result.bare.rps, 0.8, 'req/s', logfire, `, p99 ${fmt(reads.result.ours.p99)} ms`)
      if (size === 100_000) {
        const growth = reads.peak - idle
        record({ scenario: '3. RSS while 10 clients read 100k blocks', logfire: `+${fmt(growth)} MB (idle ${fmt(idle)} MB, peak ${fmt(reads.peak)} MB)`, baseline: '', ratio: '', target: '≤ +100 MB', pass: growth <= 100 }, logfire)
      }
    }

    // 7. A poller reads only what is new: the last 10 blocks must cost the same
    // at 100,000 blocks as at 1,000. A second logfire holds the small chain and
    // the two take turns, as in scenario 1.
    const small = await startLogfire({ LOGFIRE_MAX_BLOCKS: '10000000' }, SMALL_CHAIN_PORT)
    try {
      await fill(small, 1_000)
      const lastTen = async (server: Server) => {
        const { length } = await (await fetch(`${server.url}/logs/verify`)).json() as { length: number }
        return `${server.url}/logs?from=${length - 10}`
      }
      const urls = new Map([[logfire, await lastTen(logfire)], [small, await lastTen(small)]])
      const tail = oneRequest(urls.get(logfire) as string)
      for (const server of [logfire, small]) await cannon({ url: urls.get(server) as string, connections: 10, duration: WARM_UP_SECONDS })
      const { ours, bare: base, ratio } = await alternate((server, seconds) => cannon({ url: urls.get(server) as string, connections: 10, duration: seconds }), logfire, small)
      record({
        scenario: '7. GET /logs?from= last 10 blocks, at 100k blocks vs at 1,000, 10 conn',
        logfire: `${fmt(ours.rps)} req/s, p99 ${ours.p99} ms; one request ${fmt(tail.total, 2)} ms (whole chain: ${fmt(wholeChainMs, 1)} ms)`,
        baseline: `at 1,000 blocks: ${fmt(base.rps)} req/s`,
        ratio: fmt(ratio, 2),
        target: '≥ 0.8 (cost ∝ what it returns)',
        pass: ratio >= 0.8
      }, logfire)
    } finally {
      await stop(small)
    }

    // 5. Writes while two clients keep reading the 100k chain.
    // The chain is still the 100,000 blocks the reads above were measured on.
    if (hasWrk) {
      const readers = spawn('wrk', ['-t', '1', '-c', '2', '-d', `${SECONDS + 2}s`, `${logfire.url}/logs`], { stdio: 'ignore' })
      await sleep(1000)
      const during = await postLine(10)(logfire, SECONDS)
      await new Promise((resolve) => readers.once('exit', resolve))
      const ratio = during.rps / postOnly10
      record({
        scenario: '5. POST, 10 conn, while 2 clients read 100k blocks',
        logfire: `${fmt(during.rps)} req/s, p99 ${during.p99} ms`,
        baseline: `POST only: ${fmt(postOnly10)} req/s`,
        ratio: fmt(ratio, 2),
        target: '≥ 0.5 and p99 < 50 ms',
        pass: ratio >= 0.5 && during.p99 < 50
      }, logfire)
    }
  } finally {
    await stop(logfire)
  }
}

async function memoryScenarios (): Promise<string[]> {
  // 6a. RSS after 100,000 blocks of 80-byte lines, in a fresh process.
  const fresh = await startLogfire({ LOGFIRE_MAX_BLOCKS: '1000000' })
  try {
    await fill(fresh, 100_000)
    await sleep(1000)
    const rss = rssMb(fresh.pid)
    record({ scenario: '6. RSS after 100,000 blocks of 80-byte lines', logfire: `${fmt(rss)} MB`, baseline: '', ratio: '', target: '≤ 120 MB', pass: rss <= 120 }, fresh)
  } finally {
    await stop(fresh)
  }

  // 6b. A million lines with the default memory budget: it must burn, not grow.
  const total = QUICK ? 300_000 : 1_000_000
  const logfire = await startLogfire()
  const curve: number[] = []
  try {
    const batch = Array.from({ length: 1000 }, () => LINE).join('\n')
    for (let sent = 0; sent < total; sent += 10_000) {
      for (let i = 0; i < 10; i++) await (await fetch(`${logfire.url}/logs`, { method: 'POST', body: batch })).arrayBuffer()
      curve.push(rssMb(logfire.pid))
    }
    // The budget is 100,000 blocks: the chain burns every 100,000 lines. On
    // Node.js 24 the old generation grows to its first full collection's
    // limit only after 700,000 lines or so (128 MB after the first 50,000
    // lines, 161 from 800,000 on, flat): judged as the soak judges it.
    const { middle, last } = peaksByThird(curve)
    const grew = last - middle
    record({ scenario: `6. RSS while posting ${fmt(total)} lines, default budget`, logfire: `peak ${fmt(Math.max(...curve))} MB; last third's peak vs the middle third's: ${fmt(middle)} → ${fmt(last)} MB`, baseline: '', ratio: '', target: 'no growth after warm-up (≤ +10%)', pass: grew <= middle * 0.1 }, logfire)
  } finally {
    await stop(logfire)
  }
  return curve.filter((_, i) => (i + 1) % 5 === 0).map((mb, i) => `${fmt((i + 1) * 50)}k lines: ${fmt(mb)} MB`)
}

// What a process may hold beyond the chain's byte budget (docs/operations.md, Reliability).
const OVERHEAD_MB = 200

async function longLineScenarios (): Promise<void> {
  // 9. The flood that once killed a 512 MB container: 60 KB lines, 16 to a
  // request, 4 at a time, at the default byte budget and at the one a 256 MB
  // container derives. RSS is sampled from /proc every 100 ms.
  const bytes = QUICK ? 300e6 : 1.5e9
  for (const budgetMb of [256, 64]) {
    const logfire = await startLogfire(budgetMb === 256 ? {} : { LOGFIRE_MAX_CHAIN_BYTES: String(budgetMb * 2 ** 20) })
    try {
      const idle = rssMb(logfire.pid)
      const { result, peak } = await peakRssDuring(logfire.pid, () => flood({ url: logfire.url, bytes }))
      const ok = result.failures.length === 0
      record({
        scenario: `9. RSS peak under ${fmt(bytes / 1e6)} MB of 60 KB lines, 4 at a time, chain budget ${budgetMb} MiB`,
        logfire: `peak ${fmt(peak)} MB (idle ${fmt(idle)}); ${fmt(result.bytes / 1e6 / result.seconds)} MB/s, ${result.statuses[410] ?? 0} burns; one-line POST ≤ ${fmt(result.probeMaxMs)} ms${ok ? '' : `; ${result.failures[0] ?? ''}`}`,
        baseline: '',
        ratio: '',
        target: `≤ ${budgetMb} + ${OVERHEAD_MB} MB, every answer 200 or 410`,
        pass: ok && peak <= budgetMb + OVERHEAD_MB
      }, logfire)
    } finally {
      await stop(logfire)
    }
  }
}

/** Viewers of the event stream that read everything, until `close`. */
function viewers (url: string, count: number): { close: () => void } {
  const requests = Array.from({ length: count }, () => {
    const request = httpRequest(`${url}/logs/stream`, (response) => { response.resume() })
    request.on('error', () => {})
    request.end()
    return request
  })
  return { close: () => { for (const request of requests) request.destroy() } }
}

async function viewerScenario (): Promise<void> {
  // 8. One-line POSTs while the default cap of 100 viewers watch every block,
  // against the same with nobody watching, in alternating slices.
  const watched = await startLogfire()
  const alone = await startLogfire({}, SMALL_CHAIN_PORT)
  const watching = viewers(watched.url, 100)
  try {
    await sleep(500)
    const post = (server: Server, seconds: number) => cannon({ url: `${server.url}/logs`, method: 'POST', body: LINE, connections: 10, duration: seconds })
    await post(watched, WARM_UP_SECONDS)
    await post(alone, WARM_UP_SECONDS)
    const { ours, bare, ratio } = await alternate(post, watched, alone)
    record({
      scenario: '8. POST, 10 conn, while 100 viewers (the default cap) watch, vs nobody',
      logfire: `${fmt(ours.rps)} req/s, p99 ${fmt(ours.p99)} ms`,
      baseline: `${fmt(bare.rps)} req/s, p99 ${fmt(bare.p99)} ms`,
      ratio: fmt(ratio, 2),
      target: '',
      pass: undefined
    }, watched)
  } finally {
    watching.close()
    await stop(watched)
    await stop(alone)
  }
}

async function redisUsedMb (socket: string): Promise<number> {
  const client = new Redis({ path: socket })
  try {
    const info = await client.info('memory')
    return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN) / 1e6
  } finally {
    client.disconnect()
  }
}

const SCALE_CONNECTIONS = 50

async function redisScenarios (): Promise<void> {
  // 10. The Redis backend (LOGFIRE_REDIS_URL), against the memory backend
  // measured in the same run; every replica on one private redis-server.
  if (!hasRedis) {
    notes.push('redis-server is not installed (apt-get install -y redis-server): the Redis backend was not measured.')
    return
  }
  const redis = await privateRedis()
  const socket = redis.url.slice('unix://'.length)
  const onRedis = (namespace: string, port: number) => startLogfire({ LOGFIRE_REDIS_URL: redis.url, LOGFIRE_REDIS_NAMESPACE: namespace, LOGFIRE_MAX_BLOCKS: '10000000' }, port)
  const one = await onRedis('one', LOGFIRE_PORT)
  const memory = await startLogfire({ LOGFIRE_MAX_BLOCKS: '10000000' }, SMALL_CHAIN_PORT)
  try {
    const post = postLine(10)
    await post(one, WARM_UP_SECONDS)
    await post(memory, WARM_UP_SECONDS)
    const single = await alternate(post, one, memory)
    record({
      scenario: '10. POST one line, 10 conn, 1 replica on Redis vs the memory backend',
      logfire: `${fmt(single.ours.rps)} req/s, p99 ${fmt(single.ours.p99)} ms`,
      baseline: `${fmt(single.bare.rps)} req/s, p99 ${fmt(single.bare.p99)} ms`,
      ratio: fmt(single.ratio, 2),
      target: '≥ 0.5',
      pass: single.ratio >= 0.5
    }, one)

    // Two replicas, each given half the clients, against one replica given
    // them all: the total each way, in alternating slices. Enough clients to
    // keep every replica busy: what is compared is capacity, not latency.
    // The clients are wrk's: on two cores shared by the clients, Redis and
    // the replicas, one replica is bound by its own thread while two are
    // bound by the machine, so a client's CPU counts against two replicas
    // only. autocannon's 40 µs a request (wrk's: 20) put this near 0.97.
    if (!hasWrk) {
      notes.push('wrk is not installed (apt-get install -y wrk): 2 replicas against 1 was not measured.')
    } else {
      const two = await onRedis('one', BARE_PORT + 10)
      const scripts = mkdtempSync(join(tmpdir(), 'logfire-wrk-'))
      try {
        const script = wrkPostScript(scripts, LINE, 'text/plain')
        const oneOf = (server: Server, connections: number, seconds: number) => wrk(`${server.url}/logs`, connections, seconds, { script })
        const both = async (_server: Server, seconds: number): Promise<Load> => {
          const [x, y] = await Promise.all([one, two].map((replica) => oneOf(replica, SCALE_CONNECTIONS / 2, seconds))) as [Load, Load]
          return { rps: x.rps + y.rps, p99: Math.max(x.p99, y.p99), non2xx: x.non2xx + y.non2xx }
        }
        await both(one, WARM_UP_SECONDS)
        const scaled = await alternate((server, seconds) => server === two ? both(server, seconds) : oneOf(server, SCALE_CONNECTIONS, seconds), two, one)
        record({
          scenario: `10. POST one line, ${SCALE_CONNECTIONS} conn in all (wrk): 2 replicas vs 1, one Redis`,
          logfire: `${fmt(scaled.ours.rps)} req/s in all, p99 ${fmt(scaled.ours.p99)} ms`,
          baseline: `${fmt(scaled.bare.rps)} req/s, p99 ${fmt(scaled.bare.p99)} ms`,
          ratio: fmt(scaled.ratio, 2),
          target: '≥ 1.0',
          pass: scaled.ratio >= 1.0
        }, two)
      } finally {
        await stop(two)
        rmSync(scripts, { recursive: true, force: true })
      }
    }

    // Batches against the memory backend in the same run (issue 31 asks 0.5×). Each slice starts from a
    // fresh chain, so that neither side's chain reaches its budget and burns mid-slice.
    const body = Array.from({ length: 1000 }, (_, i) => `{"level":30,"i":${i},"msg":"batch line"}`.padEnd(100, ' ')).join('\n')
    const batch = async (server: Server, seconds: number): Promise<Load> => {
      await resetChain(server)
      const result = await autocannon({ url: `${server.url}/logs`, method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' }, connections: 10, duration: seconds })
      return { rps: (result['2xx'] * 1000) / result.duration, p99: result.latency.p99, non2xx: result.non2xx }
    }
    await batch(one, WARM_UP_SECONDS)
    await batch(memory, WARM_UP_SECONDS)
    const batched = await alternate(batch, one, memory)
    record({ scenario: '10. Batch ingest, NDJSON 1,000 × 100 B, 10 conn: 1 replica on Redis vs the memory backend', logfire: `${fmt(batched.ours.rps)} lines/s, p99 ${fmt(batched.ours.p99)} ms`, baseline: `${fmt(batched.bare.rps)} lines/s`, ratio: fmt(batched.ratio, 2), target: '≥ 0.5', pass: batched.ratio >= 0.5 }, one)

    // One full read at 100k blocks: served from the replica's own copy.
    await resetChain(one)
    await resetChain(memory)
    const before = await redisUsedMb(socket)
    await fill(one, 100_000)
    const redisMb = await redisUsedMb(socket) - before
    await fill(memory, 100_000)
    const reads = alternateRequests(`${one.url}/logs`, `${memory.url}/logs`)
    record({
      scenario: '10. GET whole chain, 100,000 blocks, 1 replica on Redis vs the memory backend',
      logfire: `${fmt(reads.ours, 1)} ms`,
      baseline: `${fmt(reads.base, 1)} ms`,
      ratio: fmt(reads.ratio, 2),
      target: '≤ 1.3',
      pass: reads.ratio <= 1.3
    }, one)
    record({ scenario: '10. Redis memory for 100,000 blocks of 80-byte lines', logfire: `${fmt(redisMb, 1)} MB`, baseline: '', ratio: '', target: '', pass: undefined })
  } finally {
    await stop(one)
    await stop(memory)
    await redis.remove()
  }
}

async function heldConnections (server: Server): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text()
  return Number(/^logfire_held_connections (\d+)/m.exec(metrics)?.[1] ?? NaN)
}

async function faultScenarios (): Promise<void> {
  // 11. One-line POSTs with every fault on (LOGFIRE_CHAOS_PRESET=hostile-network):
  // what still completes, and what the connections the faults hold cost.
  const hostile = await startLogfire({ LOGFIRE_CHAOS_PRESET: 'hostile-network' })
  try {
    const options = { url: `${hostile.url}/logs`, method: 'POST' as const, body: LINE, headers: { 'content-type': 'text/plain' }, connections: 100, timeout: 5 }
    await autocannon({ ...options, duration: WARM_UP_SECONDS })
    let peakHeld = 0
    const sampler = setInterval(() => { heldConnections(hostile).then((held) => { peakHeld = Math.max(peakHeld, held) }, () => {}) }, 250)
    const { result, peak } = await peakRssDuring(hostile.pid, () => autocannon({ ...options, duration: SECONDS }))
    clearInterval(sampler)
    const answered = result.requests.total
    record({
      scenario: '11. POST one line, 100 conn, LOGFIRE_CHAOS_PRESET=hostile-network',
      logfire: `${fmt(result.requests.average)} answers/s (${fmt(result['2xx'] / SECONDS)} 200s/s), p99 ${fmt(result.latency.p99)} ms; ${fmt(result.errors)} cut connections, ${fmt(result.timeouts)} client timeouts; ${fmt(100 * result.non2xx / Math.max(1, answered), 1)}% of answers refused; held at most ${fmt(peakHeld)}, RSS peak ${fmt(peak)} MB`,
      baseline: '',
      ratio: '',
      target: '',
      pass: undefined
    }, hostile)
  } finally {
    await stop(hostile)
  }

  // The connections faults hold, at the default limit: all of them hanging.
  const hanging = await startLogfire()
  const sockets: Array<{ destroy: () => void }> = []
  try {
    await fill(hanging, 1000)
    const idle = rssMb(hanging.pid)
    const limit = 256
    for (let i = 0; i < limit; i++) {
      const request = httpRequest(`${hanging.url}/logs`, { method: 'POST', headers: { 'x-logfire-chaos': 'hang', 'content-type': 'text/plain' } })
      request.on('error', () => {})
      request.end(LINE)
      sockets.push(request)
    }
    for (let tries = 0; tries < 100 && await heldConnections(hanging) < limit; tries++) await sleep(100)
    const held = await heldConnections(hanging)
    await sleep(500)
    const grown = rssMb(hanging.pid) - idle
    record({
      scenario: `11. RSS of ${fmt(held)} hung connections (LOGFIRE_MAX_HELD_CONNECTIONS, the default)`,
      logfire: `+${fmt(grown, 1)} MB, ${fmt((grown * 1024) / Math.max(1, held), 0)} KB each`,
      baseline: '',
      ratio: '',
      target: '',
      pass: undefined
    }, hanging)
  } finally {
    for (const socket of sockets) socket.destroy()
    await stop(hanging)
  }
}

/** One `npm start`, as a speaker types it: ms until the server says it is listening. */
function npmStartMs (): Promise<number> {
  return new Promise((resolve, reject) => {
    const began = performance.now()
    const child = spawn('npm', ['start'], { env: { PATH: process.env.PATH ?? '', PORT: '29499', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'ignore'], detached: true })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (!output.includes('Server listening')) return
      resolve(performance.now() - began)
      // npm, then node under it: the whole group goes.
      process.kill(-(child.pid as number), 'SIGTERM')
    })
    child.on('exit', (code) => { if (!output.includes('Server listening')) reject(new Error(`npm start exited ${code} before listening`)) })
  })
}

async function startupScenario (): Promise<void> {
  // 12. A restart on stage: `npm start` with the build current compiles nothing.
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    times.push(await npmStartMs())
    await sleep(500)
  }
  const ms = median(times)
  record({ scenario: '12. npm start to listening, build current (median of 3)', logfire: `${fmt(ms / 1000, 2)} s`, baseline: '', ratio: '', target: '≤ 2 s', pass: ms <= 2000 })
}

// --------------------------------------------------------------------- main

async function clusterScenario (): Promise<void> {
  await clusterScenarios({ startLogfire, stop, alternate, record, fmt, line: LINE, quick: QUICK }, [LOGFIRE_PORT, SMALL_CHAIN_PORT, BARE_PORT + 40, BARE_PORT + 41], notes)
}

async function firesScenario (): Promise<void> {
  await fireScenarios({ startLogfire, stop, alternate, record, fmt, line: LINE, quick: QUICK }, [LOGFIRE_PORT, SMALL_CHAIN_PORT])
}

async function main (): Promise<void> {
  console.error(`building… (${QUICK ? 'quick' : 'full'} run, ${SECONDS} s per measurement, ${ROUNDS} round(s))`)
  // As `npm start` builds: then scenario 12's restarts find the build current.
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { stdio: 'ignore' })
  const bare = await startServer('scripts/bench/bare.mjs', BARE_PORT)
  let curve: string[] = []
  let ledger: string[] = []
  try {
    if (ONLY === 'redis') {
      await redisScenarios()
    } else if (ONLY === 'faults') {
      await faultScenarios()
    } else if (ONLY === 'startup') {
      await startupScenario()
    } else if (ONLY === 'protocols') {
      await protocolScenarios()
    } else if (ONLY === 'streams') {
      await streamScenario()
    } else if (ONLY === 'cost') {
      ledger = await costLedger({ line: LINE, port: LOGFIRE_PORT, quick: QUICK })
    } else if (ONLY === 'fires') {
      await firesScenario()
    } else if (ONLY === 'cluster') {
      await clusterScenario()
    } else if (ONLY === 'core') {
      await coreScenario(bare)
    } else if (ONLY === 'targets') {
      // Issue 28's table: one-line POSTs and the 304 at both levels, batch ingest, the RSS.
      await postScenarios(bare, 'info', 0.6)
      await postScenarios(bare, 'warn', 0.75)
      await coreScenario(bare)
      await batchScenario()
      curve = await memoryScenarios()
    } else {
      console.error('POST and 304, default logging')
      const info = await postScenarios(bare, 'info', 0.6)
      console.error('POST and 304, LOG_LEVEL=warn')
      await postScenarios(bare, 'warn', 0.75)
      console.error('POST against its core work in a bare route')
      await coreScenario(bare)
      console.error('batch ingest')
      await batchScenario()
      console.error('batch ingest through _bulk and OTLP')
      await protocolScenarios()
      console.error('syslog over TCP')
      await streamScenario()
      console.error('reads, polling, writes during reads')
      await readScenarios(bare, info[10] as number)
      console.error('memory')
      curve = await memoryScenarios()
      console.error('viewers')
      await viewerScenario()
      console.error('long lines')
      await longLineScenarios()
      console.error('the Redis backend')
      await redisScenarios()
      console.error('a Redis Cluster')
      await clusterScenario()
      console.error('faults below the status line')
      await faultScenarios()
      console.error('npm start')
      await startupScenario()
      console.error('fires')
      await firesScenario()
      console.error('the cost ledger')
      // As without wrk or redis-server: the rest of the table still prints.
      if (hasValgrind()) ledger = await costLedger({ line: LINE, port: LOGFIRE_PORT, quick: QUICK })
      else notes.push('valgrind is not installed (apt-get install -y valgrind): the cost ledger was not measured.')
    }
  } finally {
    await stop(bare)
  }

  const cpu = cpus()[0]?.model ?? 'unknown CPU'
  const lines = [
    `Run of ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpu}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, Node.js ${process.version}, ${QUICK ? 'quick mode (indicative only)' : `${SECONDS} s per measurement and ${ROUNDS} rounds; small requests in alternating ${SLICE_SECONDS} s slices (ratio: median of adjacent slices), big reads best of each round`}.`,
    'Baseline: a bare Fastify 5 route on the same Node with its logger off (scripts/bench/bare.mjs), measured in the same run.',
    '',
    ...(rows.length > 0
      ? ['| scenario | logfire | baseline | ratio | target | result | logfire RSS |', '| --- | --- | --- | --- | --- | --- | --- |', ...rows.map((r) => `| ${r.scenario} | ${r.logfire} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.pass === undefined ? '' : r.pass ? 'pass' : '**FAIL**'} | ${r.rss} |`), '']
      : []),
    ...(curve.length > 0 ? ['RSS while posting lines with the default memory budget (100,000 blocks):', '', ...curve.map((point) => `- ${point}`)] : []),
    ...(ledger.length > 0 ? ['', 'The cost ledger: what each step costs a one-line POST.', '', ...ledger] : []),
    ...(notes.length > 0 ? ['', ...[...new Set(notes)].map((note) => `Note: ${note}`)] : [])
  ]
  const table = lines.join('\n')
  console.log(table)
  if (OUT !== undefined) writeFileSync(OUT, `# Benchmarks\n\nProduced by \`npm run bench${QUICK ? ' -- --quick' : ''}\`.\n\n${table}\n`)
  const failed = rows.filter((r) => r.pass === false)
  if (failed.length > 0 && !QUICK) process.exitCode = 1
}

await main()
