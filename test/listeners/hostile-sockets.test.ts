import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import { encode } from '@msgpack/msgpack'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hostileForward, hostileGelfChunks, hostileRelp, hostileStream } from '../fuzz/frames.js'
import { STREAMS, startListening, syslogLine, until, type Listening } from './listening.js'

/*
 * The parsers take 100,000 hostile cases each in npm run fuzz. Here the
 * same hostile bytes go through real sockets into one running logfire, cut
 * at the same points, on every stream listener at once: the server keeps
 * running, ends every connection it should, stays within its bounds, keeps
 * a chain that verifies, and still takes a good message afterwards.
 */

const SEED = 20261206
const CASES = 120

/** Writes each piece, then half-closes; gives the connection a moment to end on its own before cutting it. */
function hostileConnection (port: number, pieces: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.on('error', () => {})
    socket.on('close', () => { resolve() })
    socket.on('connect', () => {
      for (const piece of pieces) socket.write(piece)
      socket.end()
      setTimeout(() => { socket.destroy() }, 300)
    })
  })
}

const cutAt = (bytes: Buffer, cuts: number[]): Buffer[] => {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b)
  return [...points, bytes.length].map((to, i) => bytes.subarray(i === 0 ? 0 : points[i - 1], to))
}

async function inBatches<T> (cases: T[], run: (one: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < cases.length; i += 20) await Promise.all(cases.slice(i, i + 20).map(run))
}

describe('hostile bytes on live stream sockets', () => {
  let l: Listening
  beforeAll(async () => {
    l = await startListening({ maxEntryBytes: 512, maxBodyBytes: 4096, streams: { ...STREAMS, syslogUdpPort: undefined, relpPort: 0, forwardPort: 0, gelfTcpPort: 0, gelfUdpPort: 0 } })
  })
  afterAll(async () => { await l.close() })

  it('takes hostile syslog, RELP, Forward and GELF streams on every listener at once, and ends each connection cleanly', async () => {
    const syslog = fc.sample(hostileStream, { seed: SEED, numRuns: CASES })
    const relp = fc.sample(hostileRelp, { seed: SEED, numRuns: CASES })
    const forward = fc.sample(hostileForward, { seed: SEED, numRuns: CASES })
    await Promise.all([
      inBatches(syslog, async ({ text, cuts }) => { await hostileConnection(l.tcp, cutAt(Buffer.from(text), cuts)) }),
      inBatches(relp, async ({ text, cuts }) => { await hostileConnection(l.relp, cutAt(Buffer.from(text), cuts)) }),
      inBatches(forward, async ({ parts, cuts }) => { await hostileConnection(l.forward, cutAt(Buffer.concat(parts), cuts)) }),
      // GELF over TCP: the syslog cases' bytes, NULs and all.
      inBatches(syslog, async ({ text, cuts }) => { await hostileConnection(l.gelfTcp, cutAt(Buffer.from(text.replaceAll('\n', '\0')), cuts)) })
    ])
    await until(async () => (await l.streams()).live.length === 0)
    const endings = new Set((await l.streams()).recent.map((connection) => connection.endedBy))
    expect([...endings].every((ending) => ending !== 'shutdown' && ending !== 'store-unavailable')).toBe(true)
  }, 60_000)

  it('takes a flood of hostile GELF datagrams (chunks out of order, duplicated, counts of 0 and 129, junk compressed or not) within the reassembly bounds', async () => {
    const udp = createSocket('udp4')
    const floods = fc.sample(hostileGelfChunks, { seed: SEED, numRuns: CASES })
    const junk = fc.sample(fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Uint8Array.from([0x1f, 0x8b, ...bytes])),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Uint8Array.from([0x78, 0x9c, ...bytes])),
      fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value)))
    ), { seed: SEED, numRuns: CASES * 5 })
    const datagrams = [
      ...floods.flat().map(({ id, sequence, count, data }) => Buffer.concat([Buffer.from([0x1e, 0x0f]), Buffer.alloc(7), Buffer.from([id, sequence, count]), data])),
      ...junk.map((bytes) => Buffer.from(bytes))
    ]
    for (const datagram of datagrams) await new Promise((resolve) => { udp.send(datagram, l.gelfUdp, '127.0.0.1', resolve) })
    udp.close()
    const { gelfChunks } = l.app.listeners
    expect(gelfChunks.pending).toBeLessThanOrEqual(1000)
    expect(gelfChunks.bytes).toBeLessThanOrEqual(8 * 1024 * 1024)
  }, 60_000)

  it('afterwards: the chain verifies, and a good message still lands on every listener', async () => {
    const before = (await l.entries()).length
    const verify = (await l.app.inject({ method: 'GET', url: '/logs/verify', headers: { 'x-logfire-chaos': 'off' } })).json()
    expect(verify).toMatchObject({ valid: true })
    await hostileConnection(l.tcp, [Buffer.from(syslogLine('still here over syslog'))])
    await hostileConnection(l.gelfTcp, [Buffer.from('{"short_message":"still here over gelf"}\0')])
    await hostileConnection(l.forward, [Buffer.from(encode(['a', 1, { m: 'still here over forward' }]))])
    const relpFrame = (txnr: number, command: string, data: string) => `${txnr} ${command} ${Buffer.byteLength(data)} ${data}\n`
    await hostileConnection(l.relp, [Buffer.from(relpFrame(1, 'open', 'relp_version=0\ncommands=syslog') + relpFrame(2, 'syslog', 'still here over relp') + '3 close 0\n')])
    await until(async () => (await l.entries()).length === before + 4)
  }, 30_000)
})
