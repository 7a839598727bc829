import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect } from 'vitest'
import { batchedDestination, type BatchedDestinationOptions } from '../src/log-destination.js'
import { it, type Defer } from './defer.js'

/** A destination writing to a file of its own, and every write it made, in bytes. */
async function destinationToFile (defer: Defer, options: BatchedDestinationOptions) {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-log-'))
  defer(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'log')
  const destination = batchedDestination({ ...options, dest: file })
  defer(() => { destination.destroy() })
  await once(destination, 'ready')
  const writes: number[] = []
  destination.on('write', (bytes: number) => { writes.push(bytes) })
  return { destination, writes, text: () => readFileSync(file, 'utf8') }
}

const line = (i: number) => `{"level":30,"i":${i},"msg":"request"}\n`

describe('batchedDestination', { concurrent: true }, () => {
  it('writes lines in order, one write per chunk, without waiting for the timer', async ({ defer }) => {
    const { destination, writes, text } = await destinationToFile(defer, { chunkChars: 100, flushMs: 60_000 })
    const lines = Array.from({ length: 31 }, (_, i) => line(i))
    for (const text of lines) destination.write(text)
    await sleep(50)
    // Lines of 35 or 36 characters: handed on every third line, the last one still waiting.
    expect(text()).toBe(lines.slice(0, 30).join(''))
    expect(writes.length).toBeGreaterThanOrEqual(1)
    expect(writes.length).toBeLessThanOrEqual(10)
    destination.flushSync()
    expect(text()).toBe(lines.join(''))
  })

  it('writes what waits at least every flushMs, and nothing at all while idle', async ({ defer }) => {
    const { destination, writes, text } = await destinationToFile(defer, { chunkChars: 4096, flushMs: 20 })
    destination.write(line(1))
    destination.write(line(2))
    await sleep(100)
    expect(writes).toEqual([Buffer.byteLength(line(1) + line(2))])
    expect(text()).toBe(line(1) + line(2))
    await sleep(100)
    expect(writes).toHaveLength(1)
  })

  it('hands on the lines still waiting to flushSync, as pino does at exit', async ({ defer }) => {
    const { destination, text } = await destinationToFile(defer, { chunkChars: 4096, flushMs: 60_000 })
    destination.write(line(1))
    expect(text()).toBe('')
    destination.flushSync()
    expect(text()).toBe(line(1))
  })

  it('hands on the lines still waiting to flush', async ({ defer }) => {
    const { destination, text } = await destinationToFile(defer, { chunkChars: 4096, flushMs: 60_000 })
    destination.write(line(1))
    destination.flush()
    await sleep(50)
    expect(text()).toBe(line(1))
  })
})
