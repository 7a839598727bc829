import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'

function availableModules (): string {
  try {
    return execFileSync('syslog-ng', ['--version'], { encoding: 'utf8' })
  } catch {
    return ''
  }
}

const modules = availableModules()
/** Why the syslog-ng tests cannot run here, if they cannot. */
export const syslogNgMissing = modules === ''
  ? 'syslog-ng-core (no syslog-ng binary)'
  : /Available-Modules:.*\bhttp\b/.test(modules) ? undefined : 'syslog-ng-mod-http (no http module)'

const configVersion = /Config version: (\d+\.\d+)/.exec(modules)?.[1] ?? '3.35'

/**
 * syslog-ng in the foreground, reading messages from its stdin and shipping
 * them with its http() destination, configured by `destination` (the inside
 * of http(...)). Retries come after one second. `source` replaces stdin, e.g.
 * a file() that a canary writes to.
 */
export function startSyslogNg (destination: string, source = 'stdin(flags(no-parse))') {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-syslog-ng-'))
  const config = join(dir, 'syslog-ng.conf')
  writeFileSync(config, [
    `@version: ${configVersion}`,
    'options { time-reopen(1); stats-freq(0); };',
    `source s_stdin { ${source}; };`,
    `destination d_logfire { http(${destination}); };`,
    'log { source(s_stdin); destination(d_logfire); };',
    ''
  ].join('\n'))

  const child = spawn('syslog-ng', [
    '-F', '--no-caps', '-f', config, '-R', join(dir, 'persist'), '-c', join(dir, 'ctl'), '-p', join(dir, 'pid')
  ], { stdio: ['pipe', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const exited = once(child, 'exit')

  return {
    send: (...messages: string[]) => { child.stdin.write(messages.map((m) => m + '\n').join('')) },
    get stderr () { return stderr },
    /** Stops syslog-ng (it exits at the end of stdin) and removes its files. */
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true })
    }
  }
}
