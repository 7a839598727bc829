import { execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import type { RunReport } from '../../../src/scorecard/run-score.js'
import { canaryLine } from '../../../src/scorecard/token.js'

const execFileAsync = promisify(execFile)

/*
 * Real shippers sending syslog over a stream to logfire: syslog-ng's
 * network() and syslog() destinations and rsyslog's omfwd, each tailing a
 * file that a test (or the canary) writes, as they would in production.
 */

function syslogNgVersion (): string {
  try {
    return execFileSync('syslog-ng', ['--version'], { encoding: 'utf8' })
  } catch {
    return ''
  }
}
const version = syslogNgVersion()
export const configVersion = /Config version: (\d+\.\d+)/.exec(version)?.[1] ?? '3.35'

/** Why the syslog-ng stream tests cannot run here, if they cannot. */
export const syslogNgStreamMissing = version === '' ? 'syslog-ng-core (no syslog-ng binary)' : undefined

// Debian's rsyslog, unpacked by .ci/run (installing it would remove syslog-ng), else an installed one.
const UNPACKED = fileURLToPath(new URL('../../../.ci/rsyslog', import.meta.url))
const ROOT = existsSync(join(UNPACKED, 'usr/sbin/rsyslogd')) ? UNPACKED : '/'
export const RSYSLOGD = join(ROOT, 'usr/sbin/rsyslogd')
export const MODULES = join(ROOT, 'usr/lib/x86_64-linux-gnu/rsyslog')
/** What rsyslogd needs to find librelp and the rest of what .ci/run unpacked. */
export const RSYSLOG_LIBRARIES = join(ROOT, 'usr/lib/x86_64-linux-gnu')

/** Why the rsyslog stream tests cannot run here, if they cannot. */
export const rsyslogStreamMissing = existsSync(join(MODULES, 'imfile.so')) ? undefined : "rsyslog (no rsyslogd with imfile; .ci/run unpacks Debian's into .ci/rsyslog)"

export interface Shipper {
  /** The file the shipper tails: write lines here. */
  file: string
  dir: string
  get stderr (): string
  stop: () => Promise<void>
}

/**
 * syslog-ng in the foreground, tailing a file and sending each line with
 * `destination` (a whole destination driver, e.g. network("127.0.0.1"
 * port(514) transport("tcp"))). time-reopen(1): it reconnects after a second.
 */
export async function startSyslogNgStream (destination: string, rewrite?: string): Promise<Shipper & { stats: () => Promise<Record<string, number>> }> {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-syslog-ng-stream-'))
  const file = join(dir, 'canary.log')
  writeFileSync(file, '')
  const config = join(dir, 'syslog-ng.conf')
  const ctl = join(dir, 'ctl')
  writeFileSync(config, [
    `@version: ${configVersion}`,
    'options { time-reopen(1); stats-freq(0); log-fifo-size(100000); };',
    `source s_file { file("${file}" follow-freq(0.1) flags(no-parse)); };`,
    `destination d_logfire { ${destination}; };`,
    ...(rewrite === undefined ? [] : [`rewrite r_logfire { ${rewrite}; };`]),
    `log { source(s_file); ${rewrite === undefined ? '' : 'rewrite(r_logfire); '}destination(d_logfire); };`,
    ''
  ].join('\n'))
  const child = spawn('syslog-ng', ['-F', '--no-caps', '-f', config, '-R', join(dir, 'persist'), '-c', ctl, '-p', join(dir, 'pid')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const exited = once(child, 'exit')
  // Ready once its control socket answers.
  for (let attempt = 0; ; attempt++) {
    try {
      await execFileAsync('syslog-ng-ctl', ['stats', '-c', ctl])
      break
    } catch (error) {
      if (attempt > 100 || child.exitCode !== null) throw new Error(`syslog-ng did not start: ${stderr}`, { cause: error })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    file,
    dir,
    get stderr () { return stderr },
    /** syslog-ng's own counters for its destination, as `syslog-ng-ctl stats` prints them: written, dropped, queued, processed. */
    stats: async () => {
      const { stdout } = await execFileAsync('syslog-ng-ctl', ['stats', '-c', ctl])
      const counters: Record<string, number> = {}
      for (const line of stdout.split('\n')) {
        const [source, id, , , type, value] = line.split(';')
        if (source?.startsWith('dst.') === true && id?.startsWith('d_logfire') === true && type !== undefined) counters[type] = Number(value)
      }
      return counters
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Why the RELP tests cannot run here, if they cannot. */
export const omrelpMissing = rsyslogStreamMissing ?? (existsSync(join(MODULES, 'omrelp.so')) ? undefined : "rsyslog-relp and librelp0 (no omrelp; .ci/run unpacks Debian's into .ci/rsyslog)")

/**
 * rsyslogd in the foreground, tailing a file with imfile and forwarding
 * every line with omfwd over TCP, `framing` "traditional" (LF) or
 * "octet-counted", through a linked-list queue, as its documentation advises.
 */
export async function startRsyslogForward (port: number, framing: 'traditional' | 'octet-counted'): Promise<RsyslogShipper> {
  return await startRsyslog(`type="omfwd" target="127.0.0.1" port="${port}" protocol="tcp" TCP_Framing="${framing}"`)
}

/** The same with omrelp: every line acknowledged by an rsp, unacknowledged frames resent on a new session. */
export async function startRsyslogRelp (port: number, options = ''): Promise<RsyslogShipper> {
  return await startRsyslog(`type="omrelp" target="127.0.0.1" port="${port}" ${options}`, 'module(load="omrelp")')
}

export type RsyslogShipper = Shipper & { stats: () => Record<string, number> }

async function startRsyslog (action: string, load = ''): Promise<RsyslogShipper> {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-rsyslog-'))
  const file = join(dir, 'canary.log')
  const statsFile = join(dir, 'stats.json')
  writeFileSync(file, '')
  writeFileSync(join(dir, 'rsyslog.conf'), [
    `global(workDirectory="${dir}")`,
    // rsyslog's own counters, every second: what its omfwd action says it did.
    `module(load="impstats" interval="1" format="json" log.syslog="off" log.file="${statsFile}")`,
    'module(load="imfile" mode="polling" pollingInterval="1")',
    load,
    `input(type="imfile" file="${file}" tag="canary:" ruleset="ship")`,
    'ruleset(name="ship") {',
    `  action(name="to-logfire" ${action} template="RSYSLOG_SyslogProtocol23Format"`,
    '    queue.type="linkedList" queue.size="100000" action.resumeInterval="1" action.resumeRetryCount="-1")',
    '}',
    ''
  ].join('\n'))
  const child = spawn(RSYSLOGD, ['-n', '-M', MODULES, '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LD_LIBRARY_PATH: RSYSLOG_LIBRARIES }
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const exited = once(child, 'exit')
  // imfile has no readiness signal: its state file appears once it watches the file.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  if (child.exitCode !== null) throw new Error(`rsyslogd did not start: ${stderr}`)
  return {
    file,
    dir,
    get stderr () { return stderr },
    /** rsyslog's latest impstats counters for the omfwd action: processed, failed, suspended, resumed. */
    stats: () => {
      if (!existsSync(statsFile)) return {}
      const lines = readFileSync(statsFile, 'utf8').split('\n').filter((line) => line.includes('"to-logfire"'))
      const last = lines.at(-1)
      return last === undefined ? {} : Object.fromEntries(Object.entries(JSON.parse(last.slice(last.indexOf('{'))) as Record<string, unknown>).filter(([, value]) => typeof value === 'number')) as Record<string, number>
    },
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** A self-signed certificate and key for 127.0.0.1, made with openssl, in `dir`. */
export function selfSignedPair (dir: string): { certFile: string, keyFile: string } {
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile], { stdio: 'ignore' })
  return { certFile, keyFile }
}

/** `count` canary lines of `run` into `file`, about `rate` a second, 200 bytes each, as `logfire canary --to file:` writes them. */
export async function writeCanary (file: string, run: string, count: number, rate = 2500): Promise<void> {
  await paceCanary(run, count, rate, (lines) => { appendFileSync(file, lines.map((line) => line + '\n').join('')) })
}

/** Canary lines 1..count of `run` at `rate` a second, handed to `deliver` a few at a time as they fall due. */
export async function paceCanary (run: string, count: number, rate: number, deliver: (lines: string[]) => void): Promise<void> {
  const began = Date.now()
  for (let seq = 1; seq <= count;) {
    const due = Math.min(count, Math.floor((Date.now() - began) / 1000 * rate) + 1)
    const lines: string[] = []
    for (; seq <= due; seq++) lines.push(canaryLine(run, seq, Date.now(), 200))
    if (lines.length > 0) deliver(lines)
    await sleep(10)
  }
}

/** The run's scorecard once nothing more has arrived for `quietMs`. */
export async function settled (app: { inject: (options: { url: string }) => Promise<{ json: () => unknown }> }, run: string, quietMs = 3000): Promise<RunReport> {
  let last = -1
  let since = Date.now()
  for (;;) {
    const report = (await app.inject({ url: `/scorecard/${run}` })).json() as RunReport
    if (report.delivered !== last) {
      last = report.delivered
      since = Date.now()
    } else if (Date.now() - since >= quietMs) {
      return report
    }
    await sleep(200)
  }
}
