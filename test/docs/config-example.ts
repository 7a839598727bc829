import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { configVersion, MODULES, RSYSLOG_LIBRARIES, RSYSLOGD } from '../e2e/shippers/stream-shippers.js'
import { ROOT } from './markdown.js'
import { startLogfire } from './shell-example.js'

/*
 * A shipper's configuration from the documents, run by the shipper itself:
 * a fence whose info string is `<shipper> test [VAR=value...]`.
 *
 * - syslog-ng: the fragment (destinations, and a log path or not) is put
 *   under a source `s_src` that tails a file.
 * - rsyslog: the fragment (modules and actions) runs over every line of a
 *   file that imfile tails.
 * - js: the snippet runs as an ES module in the project, with its
 *   dependencies; it must log the message itself.
 *
 * logfire runs with the fire off, LOGFIRE_INGEST_TOKEN=change-me (the token
 * the documents' configurations present) and the fence's variables; the
 * configuration reaches it where it says 127.0.0.1:3000 (or port "3000").
 * The example works when MESSAGE lands in the chain.
 */

export const MESSAGE = 'hello from the docs'

export type Shipper = 'syslog-ng' | 'rsyslog' | 'js'

/** The shipper and logfire's variables, from a fence's info string; undefined if it is not a runnable configuration. */
export function configFence (info: string): { shipper: Shipper, variables: Record<string, string> } | undefined {
  const [shipper, marker, ...pairs] = info.split(/\s+/)
  if (marker !== 'test' || !['syslog-ng', 'rsyslog', 'js'].includes(shipper ?? '')) return undefined
  return { shipper: shipper as Shipper, variables: Object.fromEntries(pairs.map((pair) => pair.split('=', 2) as [string, string])) }
}

function syslogNg (fragment: string, dir: string, file: string): ChildProcess {
  const destination = /destination\s+(\w+)/.exec(fragment)?.[1]
  const config = [
    `@version: ${configVersion}`,
    'options { time-reopen(1); stats-freq(0); };',
    `source s_src { file("${file}" follow-freq(0.1) flags(no-parse)); };`,
    fragment,
    /\blog\s*\{/.test(fragment) ? '' : `log { source(s_src); destination(${destination}); };`,
    ''
  ].join('\n')
  writeFileSync(join(dir, 'syslog-ng.conf'), config)
  return spawn('syslog-ng', ['-F', '--no-caps', '-f', join(dir, 'syslog-ng.conf'), '-R', join(dir, 'persist'), '-c', join(dir, 'ctl'), '-p', join(dir, 'pid')], { stdio: ['ignore', 'ignore', 'pipe'] })
}

function rsyslog (fragment: string, dir: string, file: string): ChildProcess {
  writeFileSync(join(dir, 'rsyslog.conf'), [
    `global(workDirectory="${dir}")`,
    'module(load="imfile" mode="polling" pollingInterval="1")',
    `input(type="imfile" file="${file}" tag="docs:")`,
    fragment,
    ''
  ].join('\n'))
  return spawn(RSYSLOGD, ['-n', '-M', MODULES, '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LD_LIBRARY_PATH: RSYSLOG_LIBRARIES }
  })
}

function node (snippet: string): ChildProcess {
  return spawn(process.execPath, ['--input-type=module', '-e', snippet], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Runs the configuration; returns what went wrong (nothing when MESSAGE landed). */
export async function runConfigExample (shipper: Shipper, content: string, variables: Record<string, string>): Promise<string[]> {
  const logfire = await startLogfire({ LOGFIRE_FIRE_RATE: '0', LOGFIRE_BURN_RATE: '0', LOGFIRE_INGEST_TOKEN: 'change-me', ...variables })
  const dir = mkdtempSync(join(tmpdir(), 'logfire-config-example-'))
  const file = join(dir, 'app.log')
  writeFileSync(file, '')
  const reached = content
    .replaceAll('127.0.0.1:3000', `127.0.0.1:${logfire.port}`)
    .replaceAll(/(port[(="]+|port: )3000\b/g, `$1${logfire.port}`)
  const child = shipper === 'syslog-ng' ? syslogNg(reached, dir, file) : shipper === 'rsyslog' ? rsyslog(reached, dir, file) : node(reached)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  try {
    // Both daemons tail the file from where it was when they opened it: write until the line lands.
    for (let waited = 0; waited < 20_000; waited += 500) {
      if (shipper !== 'js' && waited % 2000 === 0) appendFileSync(file, `${MESSAGE}\n`)
      await sleep(500)
      const chain = await (await fetch(`http://127.0.0.1:${logfire.port}/logs`, { headers: { 'x-logfire-chaos': 'off' } })).json() as Array<{ data: string }>
      if (chain.some((block) => block.data.includes(MESSAGE))) return []
      if (child.exitCode !== null && child.exitCode !== 0) break
    }
    return [`"${MESSAGE}" never reached logfire; ${shipper} said: ${stderr.slice(-1500)}`]
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    await logfire.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}
