import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createSocket } from 'node:dgram'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { canaryLine } from '../../src/scorecard/token.js'
import { hostileStream } from '../fuzz/frames.js'
import { openStream } from '../sse-client.js'
import { rawClient, startListening, syslogLine, until, type Listening } from './listening.js'

const execFileAsync = promisify(execFile)

describe('syslog listeners', () => {
  const running: Listening[] = []
  const start = async (...args: Parameters<typeof startListening>) => {
    const listening = await startListening(...args)
    running.push(listening)
    return listening
  }
  afterEach(async () => { await Promise.all(running.splice(0).map((listening) => listening.close())) })

  // One at a time, each stored before the next is sent: the order in the chain is the order sent.
  const logger = async (l: Listening, args: string[], message: string) => {
    const before = (await l.entries()).length
    await execFileAsync('logger', [...args, '-n', '127.0.0.1', message])
    await until(async () => (await l.entries()).length > before)
  }

  it('takes what util-linux logger sends, in both framings and both formats, header included and framing removed', async () => {
    const l = await start()
    await logger(l, ['--tcp', '-P', String(l.tcp)], 'lf 5424')
    await logger(l, ['--tcp', '--octet-count', '-P', String(l.tcp)], 'octet 5424')
    await logger(l, ['--tcp', '--rfc3164', '-P', String(l.tcp)], 'lf 3164')
    await logger(l, ['--tcp', '--octet-count', '--rfc3164', '-P', String(l.tcp)], 'octet 3164')
    await logger(l, ['--udp', '-P', String(l.udp)], 'udp 5424')
    await until(async () => (await l.streams()).recent.length === 4)
    const entries = await l.entries()
    expect(entries.slice(0, 4).map((entry) => entry.split(' ').at(-2) + ' ' + entry.split(' ').at(-1))).toEqual(['lf 5424', 'octet 5424', 'lf 3164', 'octet 3164'])
    expect(entries[0]).toMatch(/^<13>1 \S+ \S+ \S+ - - \[timeQuality [^\]]*\] lf 5424$/)
    expect(entries[2]).toMatch(/^<13>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ \S+: lf 3164$/)
    expect(entries[4]).toMatch(/udp 5424$/)
    const { recent, udp } = await l.streams()
    expect(recent.map((connection) => [connection.protocol, connection.messages, connection.stored, connection.endedBy])).toEqual(Array(4).fill(['syslog-tcp', 1, 1, 'client']))
    expect(udp.datagrams).toBe(1)
    const metrics = (await l.app.inject({ url: '/metrics' })).body
    expect(metrics).toContain('logfire_stream_messages_total{protocol="syslog-tcp",outcome="stored"} 4')
    expect(metrics).toContain('logfire_stream_messages_total{protocol="syslog-udp",outcome="stored"} 1')
    expect(metrics).toContain('logfire_stream_connections{protocol="syslog-tcp"} 0')
  })

  it('names the listeners that are on in GET / and the OpenAPI description, and none when off', async () => {
    const l = await start()
    expect((await l.app.inject({ url: '/', headers: { accept: 'application/json' } })).json().listeners).toEqual([{ protocol: 'syslog-tcp', port: l.tcp }, { protocol: 'syslog-udp', port: l.udp }])
    expect((await l.app.inject({ url: '/docs/json' })).json().info.description).toContain('Stream listeners on: syslog-tcp on port 0, syslog-udp on port 0.')
    const off = await start({ streams: { syslogTcpPort: undefined, syslogUdpPort: undefined, syslogTlsPort: undefined, relpPort: undefined, forwardPort: undefined, forwardSharedKey: undefined, gelfTcpPort: undefined, gelfUdpPort: undefined, tls: undefined, maxConnections: 1, idleMs: 1000 } })
    expect((await off.app.inject({ url: '/', headers: { accept: 'application/json' } })).json().listeners).toEqual([])
    expect((await off.app.inject({ url: '/metrics' })).body).not.toContain('logfire_stream_')
  })

  it('drops what lp0 and GDPR refuse, counts it, and publishes the usual events with the protocol', async () => {
    const l = await start()
    const base = await l.app.listen({ port: 0, host: '127.0.0.1' })
    const stream = openStream(`${base}/logs/stream`)
    await stream.connected()
    await l.scenario([{ messages: 1, chaos: 'fire' }])
    const client = await rawClient(l.tcp)
    await client.write(syslogLine('first, into the fire') + syslogLine('second, from the EU') + syslogLine('third, kept'))
    await until(async () => (await l.entries()).length === 1)
    expect((await l.entries())[0]).toMatch(/third, kept$/)
    client.close()
    await until(async () => (await l.streams()).recent.length === 1)
    expect((await l.streams()).recent[0]).toMatchObject({ messages: 3, stored: 1, refused: { lp0: 1, gdpr: 1, burn: 0 } })
    await until(() => stream.events.some((event) => event.event === 'gdpr'))
    expect(stream.events.find((event) => event.event === 'fire')?.data).toMatchObject({ protocol: 'syslog-tcp' })
    expect(stream.events.find((event) => event.event === 'gdpr')?.data).toMatchObject({ protocol: 'syslog-tcp', term: 'EU' })
    stream.close()
  })

  it('meets a step of time\'s fire, and leaves a "requests" step\'s to HTTP', async () => {
    const l = await start()
    await l.scenario([{ requests: 5, chaos: 'fire' }])
    const first = await rawClient(l.tcp)
    await first.write(syslogLine('while requests burn'))
    await until(async () => (await l.entries()).length === 1)
    expect((await l.app.inject({ method: 'POST', url: '/logs', payload: 'http' })).statusCode).toBe(503)
    await l.scenario([{ seconds: 30, chaos: 'fire' }])
    await first.write(syslogLine('into the outage'))
    await until(async () => (await l.streams()).live[0]?.refused.lp0 === 1)
    expect(await l.entries()).toHaveLength(1)
    first.close()
  })

  it('replays: the same seed and the same order of messages meet the same fates', async () => {
    const fates = async () => {
      const l = await start({ seed: 'stream-replay', fireRate: 0.3 })
      const client = await rawClient(l.tcp)
      await client.write(Array.from({ length: 40 }, (_, i) => syslogLine(`line ${i}`)).join(''))
      await until(async () => (await l.streams()).live[0]?.messages === 40)
      return (await l.entries()).map((entry) => entry.split(' ').at(-1))
    }
    const first = await fates()
    expect(first.length).toBeGreaterThan(15)
    expect(first.length).toBeLessThan(40)
    expect(await fates()).toEqual(first)
  })

  it('reset: a RST before the message is stored; the client reads ECONNRESET, and what it sent after is gone', async () => {
    const l = await start()
    await l.scenario([{ messages: 2 }, { messages: 1, chaos: 'reset' }])
    const client = await rawClient(l.tcp)
    await client.write(syslogLine('one') + syslogLine('two') + syslogLine('three') + syslogLine('four'))
    await until(() => client.ending !== undefined)
    expect(client.ending).toEqual({ kind: 'error', code: 'ECONNRESET' })
    expect((await l.entries()).map((entry) => entry.split(' ').at(-1))).toEqual(['one', 'two'])
    await until(async () => (await l.streams()).recent.length === 1)
    expect((await l.streams()).recent[0]).toMatchObject({ messages: 3, stored: 2, discarded: 2, endedBy: 'reset', faults: { reset: 1 } })
  })

  it('close: a FIN before the message is stored; the next write succeeds locally, the one after is reset', async () => {
    const l = await start()
    await l.scenario([{ messages: 1 }, { messages: 1, chaos: 'close' }])
    const client = await rawClient(l.tcp)
    await client.write(syslogLine('one'))
    await until(async () => (await l.entries()).length === 1)
    await client.write(syslogLine('two'))
    await until(() => client.ending !== undefined)
    expect(client.ending).toEqual({ kind: 'fin' })
    // The shipper has not read its socket: this write is accepted by its own kernel, and lost.
    expect(await client.write(syslogLine('three'))).toBeUndefined()
    await sleep(100)
    const error = await client.write(syslogLine('four'))
    expect((error as NodeJS.ErrnoException | undefined)?.code).toMatch(/EPIPE|ECONNRESET/)
    expect((await l.entries()).map((entry) => entry.split(' ').at(-1))).toEqual(['one'])
    expect((await l.streams()).recent[0]).toMatchObject({ stored: 1, endedBy: 'close', faults: { close: 1 } })
  })

  it('reset-after-append: stored once, then a RST; on a plain stream there is nothing to resend', async () => {
    const l = await start()
    await l.scenario([{ messages: 1, chaos: 'reset-after-append' }])
    const client = await rawClient(l.tcp)
    await client.write(syslogLine('kept then reset'))
    await until(() => client.ending !== undefined)
    expect(client.ending).toEqual({ kind: 'error', code: 'ECONNRESET' })
    expect((await l.entries()).map((entry) => entry.split(' ').at(-1))).toEqual(['reset'])
    expect((await l.streams()).recent[0]).toMatchObject({ stored: 1, discarded: 0, endedBy: 'reset-after-append' })
  })

  it('stall, then reset: reading stops, the kernel buffers fill under the shipper, then everything in flight is lost', async () => {
    const l = await start()
    await l.scenario([{ messages: 100 }, { messages: 1, chaos: 'stall=1500, reset' }])
    const client = await rawClient(l.tcp)
    const line = (i: number) => syslogLine(`line ${i} ${'x'.repeat(150)}`)
    let written = 0
    // Written as fast as the socket takes it, as a shipper does: writes succeed until the buffers are full.
    while (client.ending === undefined && written < 20_000) {
      client.socket.write(line(written++))
      if (client.socket.writableLength > 1024 * 1024) await sleep(50)
    }
    await until(() => client.ending !== undefined)
    expect(client.ending).toEqual({ kind: 'error', code: 'ECONNRESET' })
    const stored = (await l.entries()).length
    expect(stored).toBe(100)
    const [report] = (await l.streams()).recent
    expect(report).toMatchObject({ stored: 100, endedBy: 'stall, reset', faults: { 'stall, reset': 1 } })
    // Much more was written without an error than was ever stored or even read.
    expect(written - stored).toBeGreaterThan(500)
    expect(report!.bytesRead).toBeLessThan(written * line(0).length)
  })

  it('stall: reading stops for a while, then everything arrives, in order', async () => {
    const l = await start()
    await l.scenario([{ messages: 1, chaos: 'stall=600' }])
    const client = await rawClient(l.tcp)
    const began = Date.now()
    await client.write(syslogLine('a') + syslogLine('b'))
    await until(async () => (await l.entries()).length === 2)
    expect(Date.now() - began).toBeGreaterThanOrEqual(550)
    expect((await l.entries()).map((entry) => entry.split(' ').at(-1))).toEqual(['a', 'b'])
    expect(client.ending).toBeUndefined()
    client.close()
  })

  it('slow-read: the connection is read at the rate given', async () => {
    const l = await start()
    await l.scenario([{ messages: 1, chaos: 'slow-read=2000' }])
    const client = await rawClient(l.tcp)
    const began = Date.now()
    await client.write(syslogLine('first'))
    await until(async () => (await l.entries()).length === 1)
    client.socket.write(Array.from({ length: 40 }, (_, i) => syslogLine(`slow ${i}`)).join('')) // about 1.6 KB
    await until(async () => (await l.entries()).length === 41)
    expect(Date.now() - began).toBeGreaterThan(500)
    client.close()
  })

  it('hang: holds the connection without reading, counted against the held-connection limit, then ends it', async () => {
    const l = await start()
    await l.app.inject({ method: 'PATCH', url: '/admin/chaos', payload: { hangMs: 1000, streamHangRate: 1 }, headers: { authorization: 'Bearer admin' } })
    const client = await rawClient(l.tcp)
    await client.write(syslogLine('hung'))
    await until(async () => (await l.streams()).live[0]?.faults.hang === 1)
    const metrics = (await l.app.inject({ url: '/metrics' })).body
    expect(metrics).toMatch(/logfire_held_connections 1/)
    await until(() => client.ending !== undefined)
    expect(await l.entries()).toEqual([])
    expect((await l.streams()).recent[0]).toMatchObject({ endedBy: 'hang', stored: 0 })
  })

  it('bounds: an octet count over the limit closes at once, unbuffered; a long LF frame too; past the connection limit, closed and counted', async () => {
    const l = await start({ maxEntryBytes: 1024, streams: { syslogTcpPort: 0, syslogUdpPort: 0, syslogTlsPort: undefined, relpPort: undefined, forwardPort: undefined, forwardSharedKey: undefined, gelfTcpPort: undefined, gelfUdpPort: undefined, tls: undefined, maxConnections: 2, idleMs: 60_000 } })
    const huge = await rawClient(l.tcp)
    await huge.write('2000000000 <13>')
    await until(() => huge.ending !== undefined)
    const long = await rawClient(l.tcp)
    long.socket.write('<13>' + 'x'.repeat(5000))
    await until(() => long.ending !== undefined)
    await until(async () => (await l.streams()).recent.length === 2)
    expect((await l.streams()).recent.map((connection) => connection.endedBy)).toEqual(['frame-too-long', 'frame-too-long'])
    const kept = [await rawClient(l.tcp), await rawClient(l.tcp)]
    const third = await rawClient(l.tcp)
    await until(() => third.ending !== undefined)
    expect((await l.streams()).refused.connections).toBe(1)
    for (const client of kept) client.close()
    const udp = createSocket('udp4')
    await new Promise((resolve) => { udp.send(Buffer.alloc(2000, 'x'), l.udp, '127.0.0.1', resolve) })
    await until(async () => (await l.streams()).refused.oversizedDatagrams === 1)
    udp.close()
  })

  it('keeps serving through 200 hostile byte streams over real sockets, and what it stored verifies', async () => {
    const l = await start({ maxEntryBytes: 512 })
    const samples = fc.sample(hostileStream, { seed: 20261206, numRuns: 200 })
    for (const [i, { text }] of samples.entries()) {
      const client = await rawClient(l.tcp)
      await client.write(text)
      if (i % 2 === 0) client.socket.resetAndDestroy()
      else client.socket.end()
    }
    const client = await rawClient(l.tcp)
    await client.write(syslogLine('still here'))
    await until(async () => (await l.entries()).at(-1)?.endsWith('still here') === true)
    expect((await l.app.inject({ url: '/logs/verify' })).json()).toMatchObject({ valid: true })
    client.close()
  })

  it('puts canary lines inside syslog messages on the scorecard, and counts the refused ones against their run', async () => {
    const l = await start()
    await l.app.inject({ method: 'PUT', url: '/scorecard/stream-run' })
    await l.scenario([{ messages: 1 }, { messages: 1, chaos: 'fire' }])
    const client = await rawClient(l.tcp)
    await client.write([1, 2, 3].map((seq) => `${String(syslogLine(canaryLine('stream-run', seq, Date.now())).length - 1)} ${syslogLine(canaryLine('stream-run', seq, Date.now())).trimEnd()}`).join(''))
    await until(async () => (await l.entries()).length === 2)
    const report = (await l.app.inject({ url: '/scorecard/stream-run' })).json()
    expect(report).toMatchObject({ delivered: 2, unique: 2, missing: 1, refusedLines: { 503: 1 }, chaos: { 'syslog-tcp lp0': 1 } })
    client.close()
  })
})
