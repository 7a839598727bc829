import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

interface ErrorReport {
  request: { postdata: string }
  reply: { items?: Array<Record<string, { status: number, error?: { type: string } }>>, status?: number, error?: { type: string } }
}

// Debian's rsyslog unpacked by .ci/run (installing it would remove syslog-ng), else an installed one.
const UNPACKED = fileURLToPath(new URL('../../../.ci/rsyslog', import.meta.url))
const ROOT = existsSync(join(UNPACKED, 'usr/sbin/rsyslogd')) ? UNPACKED : '/'
const RSYSLOGD = join(ROOT, 'usr/sbin/rsyslogd')
const MODULES = join(ROOT, 'usr/lib/x86_64-linux-gnu/rsyslog')

/** Why the rsyslog tests cannot run here, if they cannot. */
export const rsyslogMissing = existsSync(RSYSLOGD)
  ? existsSync(join(MODULES, 'omelasticsearch.so')) ? undefined : 'rsyslog-elasticsearch (no omelasticsearch module)'
  : 'rsyslog (no rsyslogd; .ci/run unpacks Debian\'s into .ci/rsyslog)'

async function freePort (): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

/**
 * rsyslogd in the foreground, taking syslog lines on a TCP port and shipping
 * them with omelasticsearch in bulk mode to logfire's port, configured by
 * `action` (extra parameters of the action). Retries after one second.
 */
export async function startRsyslog (logfirePort: number, action = '') {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-rsyslog-'))
  const port = await freePort()
  const errorFile = join(dir, 'errors.json')
  writeFileSync(join(dir, 'rsyslog.conf'), [
    `global(workDirectory="${dir}")`,
    'module(load="imtcp")',
    'module(load="omelasticsearch")',
    `input(type="imtcp" address="127.0.0.1" port="${port}" ruleset="ship")`,
    'template(name="doc" type="list" option.jsonf="on") { property(outname="message" name="msg" format="jsonf") }',
    'ruleset(name="ship") {',
    `  action(type="omelasticsearch" server="127.0.0.1" serverport="${logfirePort}" searchIndex="rsyslog" bulkmode="on"`,
    `    template="doc" errorfile="${errorFile}" action.resumeInterval="1" action.resumeRetryCount="-1" ${action})`,
    '}',
    ''
  ].join('\n'))
  const child = spawn(RSYSLOGD, ['-n', '-M', MODULES, '-f', join(dir, 'rsyslog.conf'), '-i', join(dir, 'pid')], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const exited = once(child, 'exit')
  // Ready when its TCP input takes a connection.
  for (let attempt = 0; ; attempt++) {
    try {
      const socket = connect(port, '127.0.0.1')
      await once(socket, 'connect')
      socket.destroy()
      break
    } catch (error) {
      if (attempt > 100) throw new Error(`rsyslogd did not start: ${stderr}`, { cause: error })
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  return {
    /** Sends syslog lines in one TCP write, so they reach the action together. */
    send: async (...messages: string[]) => {
      const socket = connect(port, '127.0.0.1')
      await once(socket, 'connect')
      socket.end(messages.map((message) => `<13>Dec  3 02:00:00 host app: ${message}\n`).join(''))
      await once(socket, 'close')
    },
    /**
     * What rsyslog wrote to its errorfile and gave up on: each refused item,
     * or every item of a request refused whole, as its error and message.
     */
    lost: (): Array<{ status: number, type: string | undefined, message: string }> => {
      if (!existsSync(errorFile)) return []
      return readFileSync(errorFile, 'utf8').split('\n').filter((line) => line.trim() !== '').flatMap((line) => {
        const report = JSON.parse(line) as ErrorReport
        const sources = report.request.postdata.split('\n').filter((text) => text.trim() !== '')
          .filter((_, index) => index % 2 === 1).map((text) => (JSON.parse(text) as { message: string }).message.trim())
        if (report.reply.items === undefined) {
          return sources.map((message) => ({ status: report.reply.status ?? 0, type: report.reply.error?.type, message }))
        }
        return report.reply.items.flatMap((item, index) => {
          const result = Object.values(item)[0]
          return result !== undefined && result.status >= 300 ? [{ status: result.status, type: result.error?.type, message: sources[index] as string }] : []
        })
      })
    },
    get stderr () { return stderr },
    stop: async () => {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
