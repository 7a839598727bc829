// The cost ledger (`npm run bench -- --only cost`): what each step of the
// chaos pipeline costs a one-line POST, counted in CPU instructions.
//
// Why instructions and not req/s: a step costs 1 to 15 µs of a request's
// 120 to 170, and this machine's throughput moves by more than that from
// one slice to the next (the first ledger, by req/s, printed three negative
// costs). Under callgrind a request's count of instructions repeats to 0.3%
// within a process, and to about 2% between processes: a step of 2 µs
// shows. The price is that a count is not time: the ledger scales each
// share by one request's µs, measured natively, which assumes every step
// runs at the same speed per instruction.
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
  const counted = new Map<string, number>()
  const count = async (env: Environment, processes = 2): Promise<number> => {
    // JSON drops the unset: a row's "off" may be another row's "on".
    const key = JSON.stringify(env)
    let instructions = counted.get(key)
    if (instructions === undefined) {
      // The lowest of a few processes: now and then one counts 3 to 30% more,
      // and noise of that kind only adds.
      instructions = Infinity
      for (let run = 0; run < (options.quick ? 1 : processes); run++) {
        instructions = Math.min(instructions, await instructionsPerRequest({ ...DEFAULTS, ...env }, warmUp, requests, options))
      }
      counted.set(key, instructions)
      console.error(`  ${fmt(instructions)} instructions a request with ${key}`)
    }
    return instructions
  }

  const requestUs = await microsecondsPerRequest(options)
  // Every row but the token's measures against this one: counted in four
  // processes, since two that both counted 3% high (190,545 where four
  // others gave 183,186 to 184,586) once shifted every row by 6,000.
  const full = await count({}, 4)
  const lines: string[] = []
  for (const row of LEDGER) {
    const on = await count({ ...row.with })
    const off = await count({ ...row.with, ...row.without })
    const share = (on - off) / on
    lines.push(`| ${row.step} | ${row.what} | ${fmt(on)} / ${fmt(off)} | ${fmt(on - off)} | ${(100 * share).toFixed(1)}% | ${(share * requestUs).toFixed(1)} µs |`)
  }
  return [
    `A one-line POST, 10 connections: ${fmt(full)} instructions a request on the main thread with every step on (callgrind), ${requestUs.toFixed(1)} µs a request on one core.`,
    '',
    '| step | on, against off | instructions on / off | the step | share | ≈ µs |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
    ...lines
  ]
}

/**
 * Instructions a request on the main thread, counted by callgrind over
 * `requests` one-line POSTs after `warmUp` uninstrumented ones. The main
 * thread runs the JavaScript, and with --single-threaded-gc the collector
 * too, so a request's share of collection is counted. The other threads are
 * left out: the compiler's (still at work after a few thousand requests, it
 * made the count wander by 4%) and libuv's pool (one log write per 4 KiB).
 */
async function instructionsPerRequest (env: Environment, warmUp: number, requests: number, options: LedgerOptions): Promise<number> {
  await assertPortFree(options.port)
  const dir = mkdtempSync(join(tmpdir(), 'logfire-ledger-'))
  const child = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${join(dir, 'callgrind.out')}`, process.execPath, ...startFlags(), '--single-threaded-gc', SERVER], {
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
  // One file a thread; the main thread's is the first.
  const main = readdirSync(dir).find((file) => file.endsWith('-01'))
  const totals = main === undefined ? null : /^totals: (\d+)/m.exec(readFileSync(join(dir, main), 'utf8'))
  rmSync(dir, { recursive: true, force: true })
  if (totals === null) throw new Error(`callgrind left no totals for ${JSON.stringify(env)}`)
  return Number(totals[1]) / requests
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
