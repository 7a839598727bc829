import { createSocket } from 'node:dgram'
import { deflateSync, gzipSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { GelfChunks } from '../../src/listeners/gelf.js'
import { gelfProClient } from '../e2e/shippers/node-clients.js'
import { STREAMS, startListening, until, type Listening } from './listening.js'

const chunk = (id: string, sequence: number, count: number, data: string) =>
  Buffer.concat([Buffer.from([0x1e, 0x0f]), Buffer.from(id.padEnd(8, '-').slice(0, 8), 'latin1'), Buffer.from([sequence, count]), Buffer.from(data)])

describe('GELF chunk reassembly', () => {
  it('reassembles chunks in any order, once, and counts duplicates and chunks that cannot be', () => {
    const chunks = new GelfChunks({ maxPending: 10, maxBytes: 1024, windowMs: 5000 }, () => 0)
    expect(chunks.add(chunk('a', 2, 3, 'c'))).toBeUndefined()
    expect(chunks.add(chunk('a', 0, 3, 'a'))).toBeUndefined()
    expect(chunks.add(chunk('a', 0, 3, 'a'))).toBeUndefined()
    expect(chunks.add(chunk('a', 1, 3, 'b'))?.toString()).toBe('abc')
    expect(chunks.add(chunk('b', 0, 0, 'x'))).toBeUndefined()
    expect(chunks.add(chunk('c', 0, 129, 'x'))).toBeUndefined()
    expect(chunks.add(chunk('d', 3, 3, 'x'))).toBeUndefined()
    expect(chunks.counts).toEqual({ expired: 0, evicted: 0, invalid: 3, duplicates: 1 })
    expect(chunks.pending).toBe(0)
  })

  it('drops a message whose chunks take longer than 5 s, and keeps memory bounded in messages and bytes', () => {
    let now = 0
    const chunks = new GelfChunks({ maxPending: 3, maxBytes: 100, windowMs: 5000 }, () => now)
    chunks.add(chunk('late', 0, 2, 'first half'))
    now = 5001
    expect(chunks.add(chunk('late', 1, 2, 'second half'))).toBeUndefined()
    expect(chunks.counts.expired).toBe(1)
    // A flood of ids: never more than 3 pending, and never more than 100 bytes held.
    for (let i = 0; i < 1000; i++) chunks.add(chunk(`id${i}`, 0, 2, 'x'.repeat(40)))
    expect(chunks.pending).toBeLessThanOrEqual(3)
    expect(chunks.bytes).toBeLessThanOrEqual(100)
    expect(chunks.counts.evicted).toBeGreaterThan(990)
  })
})

describe('the GELF listeners and POST /gelf', () => {
  const running: Listening[] = []
  afterEach(async () => { await Promise.all(running.splice(0).map((l) => l.close())) })
  const start = async () => {
    const l = await startListening({ streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, gelfTcpPort: 0, gelfUdpPort: 0 } })
    running.push(l)
    return l
  }
  const send = async (l: Listening, adapterName: 'udp' | 'tcp', message: string, extra: Record<string, unknown> = {}) => {
    const error = await gelfProClient(adapterName === 'udp' ? l.gelfUdp : l.gelfTcp, adapterName).emit(message, extra)
    if (error !== undefined) throw error
  }

  it('takes gelf-pro over UDP (zlib, with the chunk header it always adds, long messages in many chunks) and over TCP (a connection per message)', async () => {
    const l = await start()
    await send(l, 'udp', 'hello over udp', { app: 'gelf-test' })
    await send(l, 'udp', 'x'.repeat(20_000))
    await send(l, 'tcp', 'hello over tcp')
    await until(async () => (await l.entries()).length === 3)
    const entries = (await l.entries()).map((entry) => JSON.parse(entry) as { short_message: string, _app?: string, version: string })
    expect(entries.map((entry) => entry.short_message.slice(0, 14))).toEqual(expect.arrayContaining(['hello over udp', 'x'.repeat(14), 'hello over tcp']))
    expect(entries.find((entry) => entry.short_message === 'hello over udp')).toMatchObject({ version: '1.1', _app: 'gelf-test' })
    const streams = await l.streams()
    expect([...streams.live, ...streams.recent]).toEqual([expect.objectContaining({ protocol: 'gelf-tcp', stored: 1 })])
  })

  it('reads plain, gzip and zlib datagrams, each one message', async () => {
    const l = await start()
    const udp = createSocket('udp4')
    const message = (text: string) => JSON.stringify({ version: '1.1', host: 'h', short_message: text })
    for (const datagram of [Buffer.from(message('plain')), gzipSync(message('gzip')), deflateSync(message('zlib'))]) {
      await new Promise((resolve) => { udp.send(datagram, l.gelfUdp, '127.0.0.1', resolve) })
    }
    await until(async () => (await l.entries()).length === 3)
    expect((await l.entries()).map((entry) => (JSON.parse(entry) as { short_message: string }).short_message).sort()).toEqual(['gzip', 'plain', 'zlib'])
    udp.close()
  })

  it('answers POST /gelf with 202 and no body, in the fire like every ingest route', async () => {
    const l = await start()
    const accepted = await l.app.inject({ method: 'POST', url: '/gelf', payload: { version: '1.1', host: 'h', short_message: 'over http' }, headers: { 'x-logfire-chaos': 'off' } })
    expect(accepted.statusCode).toBe(202)
    expect(accepted.body).toBe('')
    expect(JSON.parse((await l.entries())[0] as string)).toMatchObject({ short_message: 'over http' })
    const refused = await l.app.inject({ method: 'POST', url: '/gelf', payload: { short_message: 'from the EU' }, headers: { 'x-logfire-chaos': 'off' } })
    expect(refused.statusCode).toBe(451)
    expect((await l.app.inject({ method: 'POST', url: '/gelf', payload: { short_message: 'fire' }, headers: { 'x-logfire-chaos': 'fire' } })).statusCode).toBe(503)
  })
})
