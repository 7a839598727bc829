import { afterEach, describe, expect, it } from 'vitest'
import { RelpFramer } from '../../src/listeners/relp.js'
import { rawClient, STREAMS, startListening, until, type Listening } from './listening.js'

/** A RELP frame as a client writes it. */
const frame = (txnr: number, command: string, data = '') => {
  const bytes = Buffer.from(data)
  return bytes.length === 0 ? `${txnr} ${command} 0\n` : `${txnr} ${command} ${bytes.length} ${data}\n`
}
const OPEN = frame(1, 'open', 'relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog')
const message = (text: string) => `<13>1 2026-12-06T10:00:00Z host app - - - ${text}\n`

describe('RELP framing', () => {
  const frames = (maxData: number, ...chunks: string[]) => {
    const framer = new RelpFramer(maxData)
    const out: unknown[] = []
    for (const chunk of chunks) {
      framer.push(Buffer.from(chunk))
      for (let next = framer.next(); next !== undefined; next = framer.next()) {
        out.push('problem' in next ? next : { ...next, data: next.data.toString() })
        if ('problem' in next) return out
      }
    }
    return out
  }

  it('reads frames split anywhere, with and without data', () => {
    expect(frames(1024, '1 op', 'en 3 abc', '\n2 syslog 2 hi\n3 close 0\n')).toEqual([
      { txnr: 1, command: 'open', data: 'abc' },
      { txnr: 2, command: 'syslog', data: 'hi' },
      { txnr: 3, command: 'close', data: '' }
    ])
  })

  it('refuses junk at once, and a DATALEN over the limit before reading the data', () => {
    expect(frames(1024, 'GET / HTTP/1.1\r\n')).toEqual([{ problem: 'bad-frame' }])
    expect(frames(1024, '1 syslog 2048 ')).toEqual([{ problem: 'frame-too-long', bytes: 2048 }])
    expect(frames(1024, '1 syslog 99999999999')).toEqual([{ problem: 'frame-too-long', bytes: Infinity }])
    expect(frames(1024, '1234567890 open 0\n')).toEqual([{ problem: 'bad-frame' }])
    expect(frames(1024, '1 syslog 3 abcX')).toEqual([{ problem: 'bad-frame' }])
  })
})

describe('the RELP listener, from the client\'s side of the socket', () => {
  const running: Listening[] = []
  afterEach(async () => { await Promise.all(running.splice(0).map((l) => l.close())) })
  const start = async () => {
    const l = await startListening({ streams: { ...STREAMS, syslogUdpPort: undefined, relpPort: 0 } })
    running.push(l)
    return l
  }
  /** A client that collects everything the server answers. */
  const session = async (l: Listening) => {
    const client = await rawClient(l.relp)
    let received = ''
    client.socket.on('data', (chunk: Buffer) => { received += chunk.toString() })
    return { client, received: () => received }
  }

  it('answers open with the relp_version offered, each syslog frame with rsp 200 in txnr order, and close with an empty rsp', async () => {
    const l = await start()
    const { client, received } = await session(l)
    await client.write(OPEN + frame(2, 'syslog', message('one')) + frame(3, 'syslog', message('two')))
    await until(() => received().includes('3 rsp'))
    expect(received()).toBe('1 rsp 80 200 OK\nrelp_version=0\nrelp_software=logfire,0.0.0-dev\ncommands=syslog\n'.replace('80', String(Buffer.byteLength('200 OK\nrelp_version=0\nrelp_software=logfire,0.0.0-dev\ncommands=syslog'))) +
      '2 rsp 6 200 OK\n3 rsp 6 200 OK\n')
    expect((await l.entries()).map((entry) => entry.split(' ').at(-1))).toEqual(['one', 'two'])
    await client.write(frame(4, 'close'))
    await until(() => client.ending !== undefined)
    expect(received().endsWith('4 rsp 0\n')).toBe(true)
  })

  it('says no where a plain stream cannot: lp0 and GDPR answer rsp 500 with the reason, and store nothing', async () => {
    const l = await start()
    await l.scenario([{ messages: 1, chaos: 'fire' }])
    const { client, received } = await session(l)
    await client.write(OPEN + frame(2, 'syslog', message('into the fire')) + frame(3, 'syslog', message('from the EU')) + frame(4, 'syslog', message('kept')))
    await until(() => received().includes('4 rsp'))
    expect(received()).toContain('2 rsp 15 500 lp0 on fire\n')
    expect(received()).toMatch(/3 rsp \d+ 500 451 mentions the EU/)
    expect(received()).toContain('4 rsp 6 200 OK\n')
    expect(await l.entries()).toHaveLength(1)
    client.close()
  })

  it('nak: rsp 500, nothing stored; ack-loss: stored, that txnr never answered, the next ones are', async () => {
    const l = await start()
    await l.scenario([{ messages: 1, chaos: 'nak' }, { messages: 1, chaos: 'ack-loss' }])
    const { client, received } = await session(l)
    await client.write(OPEN + frame(2, 'syslog', message('nakked')) + frame(3, 'syslog', message('unanswered')) + frame(4, 'syslog', message('answered')))
    await until(() => received().includes('4 rsp'))
    expect(received()).toMatch(/2 rsp \d+ 500 refused by logfire's chaos \(nak\)\n/)
    expect(received()).not.toContain('3 rsp')
    expect((await l.entries()).map((entry) => entry.split(' ').at(-1))).toEqual(['unanswered', 'answered'])
    expect((await l.streams()).live[0]).toMatchObject({ stored: 2, refused: { nak: 1 }, unacknowledged: 1, faults: { nak: 1, 'ack-loss': 1 } })
    client.close()
  })

  it('reset-after-append: stored, then a RST where the rsp would have been', async () => {
    const l = await start()
    await l.scenario([{ messages: 1 }, { messages: 1, chaos: 'reset-after-append' }])
    const { client, received } = await session(l)
    await client.write(OPEN + frame(2, 'syslog', message('answered')) + frame(3, 'syslog', message('stored, never answered')))
    await until(() => client.ending !== undefined)
    // The RST right behind the answers it did send: Node 24 reads it as ECONNRESET; Node 20 on this kernel
    // reports the end of the stream, and the next write fails.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const reset = client.ending?.kind === 'error' && client.ending.code === 'ECONNRESET'
    const nextWrite = reset ? undefined : (await client.write(frame(4, 'syslog', message('after the reset'))) as NodeJS.ErrnoException | undefined)?.code
    expect(reset || /EPIPE|ECONNRESET/.test(nextWrite ?? '')).toBe(true)
    expect(received()).toContain('2 rsp 6 200 OK\n')
    expect(received()).not.toContain('3 rsp')
    expect(await l.entries()).toHaveLength(2)
    expect((await l.streams()).recent[0]).toMatchObject({ endedBy: 'reset-after-append', stored: 2, unacknowledged: 1 })
  })

  it('close: serverclose, then FIN, before the frame is stored', async () => {
    const l = await start()
    await l.scenario([{ messages: 1, chaos: 'close' }])
    const { client, received } = await session(l)
    await client.write(OPEN + frame(2, 'syslog', message('never stored')))
    await until(() => client.ending !== undefined)
    expect(received()).toContain('0 serverclose 0\n')
    expect(await l.entries()).toHaveLength(0)
  })

  it('stops reading a client that never reads its answers, so they never pile up in logfire; answers every frame once it reads again', async () => {
    const l = await start()
    const client = await rawClient(l.relp)
    // Never read: the answers fill this socket's receive buffer, then logfire's send buffer.
    client.socket.pause()
    // An unsupported command is 6 bytes in and a 54-byte rsp 500 out: 300,000 of them answer 16 MB, more than the kernel holds.
    const frames = 300_000
    const block = Buffer.from('1 x 0\n'.repeat(1000))
    for (let i = 0; i < frames / 1000; i++) client.socket.write(block)
    const written = frames * 6
    const bytesRead = async () => (await l.streams()).live[0]?.bytesRead ?? 0
    let last = -1
    await until(async () => {
      const now = await bytesRead()
      const still = now === last
      last = now
      await new Promise((resolve) => setTimeout(resolve, 200))
      return still && now > 0
    }, 20_000)
    // logfire stopped reading with most of what the client wrote still waiting in the kernel for it.
    expect(last).toBeLessThan(written / 2)
    let answered = 0
    client.socket.on('data', (chunk: Buffer) => { for (const byte of chunk) if (byte === 0x0a) answered++ })
    client.socket.resume()
    await until(() => answered === frames, 30_000)
    expect(await bytesRead()).toBe(written)
    client.close()
  }, 60_000)

  it('closes a session that does not speak RELP, or announces data over 128 KiB', async () => {
    const l = await start()
    const http = await session(l)
    await http.client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await until(() => http.client.ending !== undefined)
    const big = await session(l)
    await big.client.write(OPEN + '2 syslog 200000 ')
    await until(() => big.client.ending !== undefined)
    await until(async () => (await l.streams()).recent.length === 2)
    expect((await l.streams()).recent.map((connection) => connection.endedBy)).toEqual(['bad-frame', 'frame-too-long'])
  })
})
