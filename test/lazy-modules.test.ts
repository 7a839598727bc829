import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

// What a process holds at rest is its modules too: the ones only some
// deployments use are loaded when one of them asks, not by every process.
// Checked in a fresh process, where no other test has loaded them.
const probe = `
import { createRequire } from 'node:module'
import { buildApp } from './src/app.ts'
import { loadConfig } from './src/config.ts'
const loaded = () => Object.keys(createRequire(import.meta.url).cache)
  .map((file) => /node_modules\\/(protobufjs|ws)\\//.exec(file)?.[1]).filter(Boolean)
const app = await buildApp({ config: loadConfig(process.env) })
const before = [...new Set(loaded())]
const otlp = await app.inject({ method: 'POST', url: '/v1/logs', headers: { 'content-type': 'application/x-protobuf' }, payload: Buffer.alloc(0) })
console.log(JSON.stringify({ before, after: [...new Set(loaded())], status: otlp.statusCode }))
await app.close()
`

function run (env: Record<string, string>): { before: string[], after: string[], status: number } {
  const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
    env: { PATH: process.env.PATH ?? '', LOGFIRE_FIRE_RATE: '0', LOGFIRE_WIPE_RATE: '0', ...env },
    encoding: 'utf8'
  })
  return JSON.parse(output.trim().split('\n').at(-1) as string)
}

describe('modules only some deployments use', () => {
  it('loads protobufjs at the first OTLP protobuf message, and the WebSocket library only for naivechain peers', () => {
    const memory = run({})
    expect(memory.before).toEqual([])
    expect(memory.status).toBe(200)
    expect(memory.after).toEqual(['protobufjs'])
    expect(run({ LOGFIRE_P2P_PORT: '39599' }).before).toEqual(['ws'])
  })
})
