import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { onTestFinished } from 'vitest'

// The real process: the built dist/server.js, run with the Node.js flags of
// `npm start` and configured from its environment.

export const npmStart = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }).scripts.start.split(/\s+/)

/** The built server on a free port, with the fire off unless `env` turns it on; killed after each test. */
export function startServer (env: Record<string, string> = {}) {
  const server = spawnServer({ LOGFIRE_FIRE_RATE: '0', LOGFIRE_WIPE_RATE: '0', ...env })
  // Registered by the test that started it, not once per module: the files
  // of a worker share this module (isolate: false in vitest.config.ts).
  onTestFinished(() => { server.child.kill('SIGKILL') })
  return server
}

/** The built server on a free port, configured by `env` alone, as a reader starts it; its caller stops it. */
export function spawnServer (env: Record<string, string>) {
  const child = spawn(process.execPath, npmStart.slice(1), {
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => { stdout += chunk })
  child.stderr.on('data', (chunk) => { stderr += chunk })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  const listening = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
      if (match !== null) resolve(match[1] as string)
    })
    exited.then(() => reject(new Error(`exited before listening: ${stderr}`)), reject)
  })
  listening.catch(() => {}) // a test that expects an early exit awaits `exited` instead
  return { child, listening, exited, output: () => ({ stdout, stderr }) }
}

/** A process's resident memory now and at its peak, in MB, as the kernel counts it. */
export function residentMb (pid: number): { now: number, peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0)
  return { now: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 }
}
