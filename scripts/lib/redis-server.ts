import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const REDIS_SERVER = '/usr/bin/redis-server'
export const hasRedis = existsSync(REDIS_SERVER)

export interface PrivateRedis {
  /** unix:///…/redis.sock */
  url: string
  /** Stops the server (SHUTDOWN: what it holds is saved when appendonly is on). */
  stop: () => Promise<void>
  /** Starts it again on the same socket and folder. */
  start: () => Promise<void>
  /** Stops it and removes its folder. */
  remove: () => Promise<void>
}

/**
 * A real redis-server of our own, for the tests and the bench, on a Unix socket in a fresh folder: no
 * port to collide with, nothing shared with any other Redis on the machine.
 */
export async function privateRedis (options: { appendonly?: boolean } = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-redis-'))
  const socket = join(dir, 'redis.sock')
  let child: ChildProcess | undefined
  const start = async () => {
    child = spawn(REDIS_SERVER, [
      '--port', '0', '--unixsocket', socket, '--unixsocketperm', '700',
      '--save', '', '--appendonly', options.appendonly === true ? 'yes' : 'no', '--appendfsync', 'always',
      '--dir', dir, '--maxmemory-policy', 'noeviction'
    ], { stdio: ['ignore', 'pipe', 'inherit'] })
    const started = child
    await new Promise<void>((resolve, reject) => {
      let seen = ''
      started.stdout?.on('data', (chunk: Buffer) => {
        seen += chunk.toString()
        if (seen.includes('ready to accept connections')) resolve()
      })
      started.once('exit', (code) => { reject(new Error(`redis-server exited with ${code}: ${seen.slice(-500)}`)) })
    })
    started.stdout?.resume()
  }
  const stop = async () => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null) return
    await new Promise<void>((resolve) => {
      running.once('exit', () => { resolve() })
      running.kill('SIGTERM')
    })
  }
  await start()
  return {
    url: `unix://${socket}`,
    stop,
    start,
    remove: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
