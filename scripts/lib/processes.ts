import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A server started as a real process, for the bench and the soak. */
export interface Server { process: ChildProcess, url: string, pid: number }

export async function waitForHealth (url: string, timeoutMs = 10_000): Promise<void> {
  for (let i = 0; i < timeoutMs / 50; i++) {
    try {
      const response = await fetch(`${url}/healthz`)
      await response.arrayBuffer()
      if (response.ok) return
    } catch {}
    await sleep(50)
  }
  throw new Error(`${url} did not start`)
}

/**
 * Throws when something already listens on `port`: a server left over from
 * an interrupted run would answer the health check in place of the one
 * about to start (which exits with EADDRINUSE), and be measured instead.
 */
export async function assertPortFree (port: number): Promise<void> {
  const taken = await new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { resolve(false) })
  })
  if (taken) throw new Error(`port ${port} is taken, perhaps by a server an interrupted run left behind: \`ss -ltnp | grep ${port}\` names it`)
}

/**
 * The Node.js flags `npm start` runs the server with (its memory settings),
 * read from package.json so the bench and the soak measure what users run.
 */
export function startFlags (): string[] {
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: { start: string } }
  const words = scripts.start.split(/\s+/)
  return words.slice(1, -1).filter((word) => word.startsWith('--'))
}

export async function startServer (script: string, port: number, env: Record<string, string> = {}, flags: string[] = []): Promise<Server> {
  await assertPortFree(port)
  const child = spawn(process.execPath, [...flags, script], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'inherit']
  })
  const url = `http://127.0.0.1:${port}`
  await waitForHealth(url)
  return { process: child, url, pid: child.pid as number }
}

/** SIGTERM, and the exit code the server stopped with. */
export async function stop (server: Server): Promise<number | null> {
  if (server.process.exitCode !== null || server.process.signalCode !== null) return server.process.exitCode
  const exited = new Promise<number | null>((resolve) => server.process.once('exit', resolve))
  server.process.kill('SIGTERM')
  return await exited
}

export function rssMb (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
}

/**
 * RSS samples judged for growth, as the soak and the bench judge them: the
 * first third sets the level, and every later sample's peak is held to the
 * middle third's. The old generation may take most of a run to reach its
 * first full collection, so growth before then is not a leak.
 */
export function peaksByThird (rss: readonly number[]): { middle: number, last: number } {
  const third = Math.max(1, Math.floor(rss.length / 3))
  return { middle: Math.max(...rss.slice(third, 2 * third)), last: Math.max(...rss.slice(2 * third)) }
}
