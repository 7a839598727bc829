import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { REDIS_SERVER } from './redis-server.js'

const run = promisify(execFile)
export const REDIS_CLI = '/usr/bin/redis-cli'

export interface ClusterNode {
  port: number
  /** Kills the process at once (SIGKILL): a machine lost, not a shutdown. */
  kill: () => void
  /** Starts it again, with its cluster config: it rejoins, as a replica if it was failed over. */
  start: () => Promise<void>
  /** Any command on this node, through redis-cli: its answer's text. */
  cli: (...args: string[]) => Promise<string>
}

export interface PrivateCluster {
  /** redis://127.0.0.1:<port> of every node, for LOGFIRE_REDIS_CLUSTER. */
  seeds: string[]
  nodes: ClusterNode[]
  nodeTimeoutMs: number
  /** Stops every node and removes their folders. */
  remove: () => Promise<void>
}

/**
 * A real Redis Cluster of our own, on loopback, for the tests and the
 * bench: `masters` masters, each with `replicas` replicas, built with
 * `redis-cli --cluster create` as an operator would.
 */
export async function privateCluster (options: { masters?: number, replicas?: number, nodeTimeoutMs?: number } = {}): Promise<PrivateCluster> {
  const masters = options.masters ?? 3
  const replicas = options.replicas ?? 0
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 2000
  const dir = mkdtempSync(join(tmpdir(), 'logfire-cluster-'))
  const nodes: ClusterNode[] = []
  const children: Array<ChildProcess | undefined> = []
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const [port, busPort] = [await stablePort(), await stablePort()]
    const home = join(dir, String(port))
    mkdirSync(home)
    const start = async () => {
      const child = spawn(REDIS_SERVER, [
        '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
        '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', String(nodeTimeoutMs),
        '--save', '', '--appendonly', 'no', '--dir', home, '--maxmemory-policy', 'noeviction',
        // A master down stops only its own slots: the other fires go on (docs/scaling.md).
        '--cluster-require-full-coverage', 'no',
        // A new replica syncs at once, not after the default 5 s wait for others to share the transfer.
        '--repl-diskless-sync-delay', '0'
      ], { stdio: ['ignore', 'pipe', 'inherit'] })
      children[i] = child
      await new Promise<void>((resolve, reject) => {
        let seen = ''
        child.stdout?.on('data', (chunk: Buffer) => {
          seen += chunk.toString()
          if (seen.includes('Ready to accept connections')) resolve()
        })
        child.once('exit', (code) => { reject(new Error(`redis-server exited with ${code}: ${seen.slice(-500)}`)) })
      })
      child.stdout?.resume()
    }
    await start()
    nodes.push({
      port,
      kill: () => { children[i]?.kill('SIGKILL') },
      start,
      cli: async (...args) => (await run(REDIS_CLI, ['-p', String(port), ...args])).stdout.trim()
    })
  }
  await run(REDIS_CLI, ['--cluster', 'create', ...nodes.map(({ port }) => `127.0.0.1:${port}`), '--cluster-replicas', String(replicas), '--cluster-yes'])
  // Created: every node must also know every other, say the cluster is ok, and each replica hold its master's data.
  const began = Date.now()
  const settled = async (node: ClusterNode) => (await node.cli('CLUSTER', 'INFO')).includes('cluster_state:ok') &&
    (await node.cli('CLUSTER', 'NODES')).split('\n').length >= nodes.length &&
    !/role:slave[\s\S]*master_link_status:down/.test(await node.cli('INFO', 'replication'))
  for (const node of nodes) {
    while (!await settled(node)) {
      if (Date.now() - began > 30_000) throw new Error('the cluster did not come up')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    seeds: nodes.map(({ port }) => `redis://127.0.0.1:${port}`),
    nodes,
    nodeTimeoutMs,
    remove: async () => {
      await Promise.all(children.map(async (child) => {
        if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
        await new Promise<void>((resolve) => {
          child.once('exit', () => { resolve() })
          child.kill('SIGKILL')
        })
      }))
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/**
 * A port nothing listens on now, below the kernel's ephemeral range
 * (32768 and up on Linux). A killed node restarts on the same ports; an
 * ephemeral port could meanwhile be taken by any outgoing connection, one
 * below that range only by another listener that names it.
 */
async function stablePort (): Promise<number> {
  for (let tries = 0; tries < 100; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (await isFree(port)) return port
  }
  throw new Error('no free port between 20000 and 32000')
}

async function isFree (port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => { resolve(false) })
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true) }) })
  })
}
