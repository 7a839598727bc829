// The cost ledger (`npm run bench -- --only cost`): what each step of the
// chaos pipeline costs a one-line POST, counted in CPU instructions.
//
// Why instructions and not req/s: a step costs 1 to 15 µs of a request's
// 120 to 170, and this machine's throughput moves by more than that from
// one slice to the next (the first ledger, by req/s, printed three negative
// costs). Under callgrind a request's count of instructions, the
// collector's left out and no marking under way (below), repeats to 0.3%
// between processes: a step of 500 instructions, a tenth of a µs, shows.
// The price is that a count is not time: the ledger scales each share by
// one request's µs, measured natively, which assumes every step runs at
// the same speed per instruction.
//
// The collector is counted apart. Under callgrind it runs on the main
// thread, and what it costs a request differs from one process of a build
// to the next (10,000 to 65,000 instructions), with whether a scavenge meets
// incremental marking. Marking also costs outside the collector's own
// functions (the write barrier's slow paths, bytecode flushing, code
// relocation): 156,600 to 160,600 instructions a request in four processes
// that met it, 148,900 to 149,400 in four that did not. So the counted
// processes start with an old generation big enough that no marking starts
// while they count: only scavenges remain.
import { execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { assertPortFree, startFlags, startServer, stop, waitForHealth, type Server } from '../lib/processes.js'

type Environment = Record<string, string | undefined>

export interface LedgerRow {
  step: string
  what: string
  /** The environment of the side with the step on, beside the defaults. */
  with?: Environment
  /** What turns the step off (undefined: unset). WITHOUT names steps ledger-server.mjs leaves out. */
  without: Environment
}

/**
 * Every feature on the hot path adds its row. The default configuration is
 * the "with" side: logging at info, the rate limit on, GDPR on, the built-in
 * alert rules, metrics and the scorecard kept.
 */
export const LEDGER: LedgerRow[] = [
  { step: '1. the rate limit', what: '@fastify/rate-limit on, against LOGFIRE_RATE_LIMIT=0', without: { LOGFIRE_RATE_LIMIT: '0' } },
  { step: '2. the route\'s token', what: 'LOGFIRE_INGEST_TOKEN set and sent, against unset', with: { LOGFIRE_INGEST_TOKEN: 'ledger' }, without: { LOGFIRE_INGEST_TOKEN: undefined } },
  { step: '11. GDPR', what: 'the EU/UK check of each line, against LOGFIRE_GDPR=false', without: { LOGFIRE_GDPR: 'false' } },
  { step: 'the request log line', what: 'one JSON line a request (LOG_LEVEL=info), against LOG_LEVEL=warn', without: { LOG_LEVEL: 'warn' } },
  { step: 'metrics', what: 'the per-request counters, against a build without them', without: { WITHOUT: 'metrics' } },
  { step: 'the scorecard', what: 'the canary-token search in each stored line, against a build without it', without: { WITHOUT: 'scorecard' } },
  { step: 'alert rules', what: 'the built-in rule pack run over each line, against no rules', without: { WITHOUT: 'alerts' } }
]

const SERVER = 'scripts/bench/ledger-server.mjs'
// High enough never to refuse, low enough that the limit does its work.
const DEFAULTS = { LOGFIRE_FIRE_RATE: '0', LOGFIRE_WIPE_RATE: '0', LOGFIRE_RATE_LIMIT: '100000000', LOGFIRE_ADMIN_RATE_LIMIT: '0', LOGFIRE_MAX_BLOCKS: '10000000', LOG_LEVEL: 'info' }

export interface LedgerOptions {
  line: string
  port: number
  quick: boolean
}

export function hasValgrind (): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** The ledger as Markdown: a sentence on the request, then one table row per step. */
export async function costLedger (options: LedgerOptions): Promise<string[]> {
  if (!hasValgrind()) throw new Error('the cost ledger counts instructions with callgrind: apt-get install -y valgrind')
  const requests = options.quick ? 1000 : 5000
  const warmUp = options.quick ? 3000 : 15_000
  const counted = new Map<string, Count>()
  const count = async (env: Environment, processes = 2): Promise<Count> => {
    // JSON drops the unset: a row's "off" may be another row's "on".
    const key = JSON.stringify(env)
    let lowest = counted.get(key)
    if (lowest === undefined) {
      // The lowest of a few processes, outside the collector: noise there only adds.
      for (let run = 0; run < (options.quick ? 1 : processes); run++) {
        const one = await instructionsPerRequest({ ...DEFAULTS, ...env }, warmUp, requests, options)
        console.error(`  ${fmt(one.mutator)} instructions a request outside the collector, ${fmt(one.collector)} in it, with ${key}`)
        if (lowest === undefined || one.mutator < lowest.mutator) lowest = one
      }
      if (lowest === undefined) throw new Error('no process was counted')
      counted.set(key, lowest)
    }
    return lowest
  }

  const requestUs = await microsecondsPerRequest(options)
  // Every row but the token's measures against this one.
  const full = await count({})
  const lines: string[] = []
  for (const row of LEDGER) {
    const on = (await count({ ...row.with })).mutator
    const off = (await count({ ...row.with, ...row.without })).mutator
    const share = (on - off) / on
    lines.push(`| ${row.step} | ${row.what} | ${fmt(on)} / ${fmt(off)} | ${fmt(on - off)} | ${(100 * share).toFixed(1)}% | ${(share * requestUs).toFixed(1)} µs |`)
  }
  return [
    `A one-line POST, 10 connections: ${fmt(full.mutator)} instructions a request on the main thread outside the collector with every step on (callgrind), and ${fmt(full.collector)} in it in that process; ${requestUs.toFixed(1)} µs a request on one core.`,
    '',
    '| step | on, against off | instructions on / off | the step | share | ≈ µs |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...lines
  ]
}

interface Count {
  /** Instructions a request on the main thread, the collector's left out. */
  mutator: number
  /** The collector's, the write barrier's with it: scavenges only, as no marking runs while counting. */
  collector: number
}

// V8's collector as callgrind names its functions: the scavenger, the
// marker, the sweeper, the compactor, and the write barrier, which does the
// marker's work while marking is under way.
const COLLECTOR = /Scaveng|Sweep|Mark|Evacuat|IteratePointers|IterateBody|SizeFromMap|v8::internal::Heap::|heap::base|MemoryAllocator|MemoryChunk|PageMetadata|Promoted|RememberedSet|SlotSet|Compactor|RecordWrite|RecordMigrated/

// The old generation a counted process starts with, in MB: what 20,000
// one-line POSTs promote (about 8 MB) is far from it, so no marking starts.
const NO_MARKING_MB = 512

/** The instructions of the collector's functions in a callgrind file, by callgrind_annotate. */
function collectorInstructions (file: string): number {
  const annotated = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 })
  let instructions = 0
  for (const line of annotated.split('\n')) {
    const cost = /^\s*([\d,]+) \(/.exec(line)
    if (cost !== null && COLLECTOR.test(line)) instructions += Number((cost[1] as string).replaceAll(',', ''))
  }
  return instructions
}

/**
 * Instructions a request on the main thread, counted by callgrind over
 * `requests` one-line POSTs after `warmUp` uninstrumented ones. The main
 * thread runs the JavaScript, and with --single-threaded-gc the collector
 * too, so a request's share of collection is counted. The other threads are
 * left out: the compiler's (still at work after a few thousand requests, it
 * made the count wander by 4%) and libuv's pool (one log write per 4 KiB).
 */
async function instructionsPerRequest (env: Environment, warmUp: number, requests: number, options: LedgerOptions): Promise<Count> {
  await assertPortFree(options.port)
  const dir = mkdtempSync(join(tmpdir(), 'logfire-ledger-'))
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'callgrind.out')}`, process.execPath, ...startFlags(), '--single-threaded-gc', `--initial-old-space-size=${NO_MARKING_MB}`, SERVER], {
    env: { PATH: process.env.PATH ?? '', ...definedOnly(env), PORT: String(options.port) },
    stdio: ['ignore', 'ignore', 'ignore']
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
  const url = `http://127.0.0.1:${options.port}`
  try {
    await waitForHealth(url, 120_000)
    await post(url, options.line, warmUp)
    execFileSync('callgrind_control', ['--instr=on', String(child.pid)], { stdio: 'ignore' })
    await post(url, options.line, requests)
    execFileSync('callgrind_control', ['--instr=off', String(child.pid)], { stdio: 'ignore' })
  } finally {
    child.kill('SIGTERM')
    await exited
  }
  try {
    // One file a thread; the main thread's is the first.
    const main = readdirSync(dir).find((file) => file.endsWith('-01'))
    const totals = main === undefined ? null : /^totals: (\d+)/m.exec(readFileSync(join(dir, main), 'utf8'))
    if (main === undefined || totals === null) throw new Error(`callgrind left no totals for ${JSON.stringify(env)}`)
    const collector = collectorInstructions(join(dir, main))
    return { mutator: (Number(totals[1]) - collector) / requests, collector: collector / requests }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** One request's µs on one saturated core (the server on core 0, the load on 1): 1 / throughput. */
async function microsecondsPerRequest (options: LedgerOptions): Promise<number> {
  const server: Server = await startServer(SERVER, options.port, DEFAULTS, startFlags())
  try {
    execFileSync('taskset', ['-p', '-c', '0', String(server.pid)], { stdio: 'ignore' })
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' })
    await load(server.url, options.line, { duration: options.quick ? 1 : 3 })
    const { requests } = await load(server.url, options.line, { duration: options.quick ? 2 : 10 })
    return 1e6 / requests.average
  } finally {
    execFileSync('taskset', ['-p', '-c', '0-1023', String(process.pid)], { stdio: 'ignore' })
    await stop(server)
  }
}

async function post (url: string, line: string, amount: number): Promise<void> {
  const result = await load(url, line, { amount })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`the ledger's POSTs failed: ${result.non2xx} not 2xx, ${result.errors} errors`)
}

function load (url: string, line: string, run: { amount: number } | { duration: number }): Promise<autocannon.Result> {
  return autocannon({ url: `${url}/logs`, method: 'POST', body: line, headers: { 'content-type': 'text/plain', authorization: 'Bearer ledger' }, connections: 10, timeout: 60, ...run })
}

const definedOnly = (env: Environment): Record<string, string> =>
  Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))

const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
