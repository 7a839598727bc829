import { createHash } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { gzipSync } from 'node:zlib'
import { decodeMulti, encode, ExtData } from '@msgpack/msgpack'
import { afterEach, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { forwardMessage } from '../../src/listeners/forward.js'
import { pong } from '../../src/listeners/forward-handshake.js'
import { msgpackExtent } from '../../src/listeners/msgpack-extent.js'
import { chainEntries, testConfig } from '../helpers.js'
import { rawClient, STREAMS, startListening, until, type Listening } from './listening.js'

const eventTime = (seconds: number, nanos: number) => {
  const data = new Uint8Array(8)
  new DataView(data.buffer).setUint32(0, seconds)
  new DataView(data.buffer).setUint32(4, nanos)
  return new ExtData(0, data)
}
const sha512 = (...parts: Array<string | Uint8Array>) => parts.reduce((hash, part) => hash.update(part), createHash('sha512')).digest('hex')

const packed = (events: Array<[unknown, unknown]>) => Buffer.concat(events.map((event) => encode(event)))

describe('MessagePack extents', () => {
  it('finds where a value ends, waits for one cut short, and refuses headers that claim more than can be', () => {
    const value = encode(['tag', [[1, { a: 'b' }]], { chunk: 'c1' }])
    expect(msgpackExtent(value, 0, 1024)).toBe(value.length)
    expect(msgpackExtent(value.subarray(0, value.length - 1), 0, 1024)).toBeUndefined()
    // A map32 claiming 2^32 - 1 pairs, in five bytes: refused, nothing allocated.
    expect(msgpackExtent(Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff]), 0, 1024)).toEqual({ problem: 'frame-too-long', bytes: Infinity })
    expect(msgpackExtent(Buffer.from([0xc1]), 0, 1024)).toEqual({ problem: 'bad-frame' })
    expect(msgpackExtent(Buffer.alloc(100, 0x91), 0, 1024)).toEqual({ problem: 'bad-frame' })
  })
})

/** A raw Forward client and every msgpack value the server has answered so far. */
async function session (l: Listening) {
  const client = await rawClient(l.forward)
  const answers: unknown[] = []
  let bytes = Buffer.alloc(0)
  client.socket.on('data', (chunk: Buffer) => {
    bytes = Buffer.concat([bytes, chunk])
    answers.splice(0, answers.length, ...decodeMulti(bytes))
  })
  return { client, answers }
}

describe('the Forward listener, from the client\'s side of the socket', () => {
  const running: Listening[] = []
  afterEach(async () => { await Promise.all(running.splice(0).map((l) => l.close())) })
  const start = async () => {
    const l = await startListening({ streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, forwardPort: 0 } })
    running.push(l)
    return l
  }

  it('takes all four modes, EventTime and integer time alike, one entry per event as {tag, time, record}', async () => {
    const l = await start()
    const { client } = await session(l)
    await client.write(encode(['app.message', 1_700_000_000, { message: 'one' }]))
    await client.write(encode(['app.forward', [[eventTime(1_700_000_001, 500_000_000), { message: 'two' }], [1_700_000_002, { message: 'three' }]]]))
    await client.write(encode(['app.packed', packed([[1_700_000_003, { message: 'four' }]])]))
    await client.write(encode(['app.gzip', gzipSync(packed([[1_700_000_004, { message: 'five' }]])), { compressed: 'gzip' }]))
    await until(async () => (await l.entries()).length === 5)
    expect((await l.entries()).map((entry) => JSON.parse(entry))).toEqual([
      { tag: 'app.message', time: 1_700_000_000, record: { message: 'one' } },
      { tag: 'app.forward', time: 1_700_000_001.5, record: { message: 'two' } },
      { tag: 'app.forward', time: 1_700_000_002, record: { message: 'three' } },
      { tag: 'app.packed', time: 1_700_000_003, record: { message: 'four' } },
      { tag: 'app.gzip', time: 1_700_000_004, record: { message: 'five' } }
    ])
    client.close()
  })

  it('acknowledges a message that asks, with its chunk id exactly as sent, and no other', async () => {
    const l = await start()
    const { client, answers } = await session(l)
    await client.write(encode(['a', [[1, { n: 1 }]], { chunk: 'p8n9gmxTQVC8/nh2wlKKeQ==\n', size: 1 }]))
    await client.write(encode(['a', [[1, { n: 2 }]]]))
    await client.write(encode(['a', [[1, { n: 3 }]], { chunk: '5f1e3f0e0c1d4a' }]))
    await until(async () => (await l.entries()).length === 3)
    await until(() => answers.length === 2)
    expect(answers).toEqual([{ ack: 'p8n9gmxTQVC8/nh2wlKKeQ==\n' }, { ack: '5f1e3f0e0c1d4a' }])
    client.close()
  })

  it('answers the UDP heartbeat with one byte 0x00 on the same port', async () => {
    const l = await start()
    const udp = createSocket('udp4')
    udp.send(Buffer.from([0]), l.forward, '127.0.0.1')
    const [reply] = await once(udp, 'message') as [Buffer]
    expect([...reply]).toEqual([0])
    udp.close()
  })

  it('breaks the promise on demand: nak closes without an ack and stores nothing; ack-loss stores and never acks; ack-wrong acks another chunk', async () => {
    const l = await start()
    await l.scenario([{ messages: 1, chaos: 'ack-loss' }, { messages: 1, chaos: 'ack-wrong' }, { messages: 1, chaos: 'nak' }])
    const { client, answers } = await session(l)
    const chunk = (id: string, n: number) => encode(['a', [[1, { n }], [1, { n: n + 0.5 }]], { chunk: id }])
    await client.write(chunk('lost', 1))
    await client.write(chunk('wrong', 2))
    await until(async () => (await l.entries()).length === 4)
    await until(() => answers.length === 1)
    expect(answers[0]).not.toEqual({ ack: 'wrong' })
    expect(answers[0]).toHaveProperty('ack')
    await client.write(chunk('refused', 3))
    await until(() => client.ending !== undefined)
    expect(client.ending).toEqual({ kind: 'fin' })
    expect(answers).toHaveLength(1)
    expect(await l.entries()).toHaveLength(4)
    expect((await l.streams()).recent[0]).toMatchObject({ protocol: 'forward', messages: 3, stored: 4, refused: { nak: 2 }, unacknowledged: 2, endedBy: 'refused' })
  })

  it('refuses lp0 and GDPR the only way Forward can: no ack, and the connection closed; the chunk is the unit, all its events or none', async () => {
    const l = await start()
    const { client, answers } = await session(l)
    await client.write(encode(['a', [[1, { m: 'fine' }], [1, { m: 'shipped from the EU' }]], { chunk: 'c' }]))
    await until(() => client.ending !== undefined)
    expect(answers).toEqual([])
    expect(await l.entries()).toEqual([])
    expect((await l.streams()).recent[0]).toMatchObject({ refused: { gdpr: 2 }, endedBy: 'refused' })
  })

  it('closes a connection that sends what is not Forward, or a header claiming 2^32 entries, at once', async () => {
    const l = await start()
    const junk = await session(l)
    await junk.client.write(encode({ not: 'an array' }))
    await until(() => junk.client.ending !== undefined)
    const bomb = await session(l)
    await bomb.client.write(Buffer.from([0x93, 0xa1, 0x61, 0xdd, 0xff, 0xff, 0xff, 0xff]))
    await until(() => bomb.client.ending !== undefined)
    await until(async () => (await l.streams()).recent.length === 2)
    expect((await l.streams()).recent.map((connection) => connection.endedBy).sort()).toEqual(['bad-frame', 'frame-too-long'])
  })
})

describe('the Forward handshake, with LOGFIRE_FORWARD_SHARED_KEY', () => {
  const running: Listening[] = []
  afterEach(async () => { await Promise.all(running.splice(0).map((l) => l.close())) })

  /** A connection that has read the server's HELO. */
  async function greeted (l: Listening) {
    const { client, answers } = await session(l)
    await until(() => answers.length === 1)
    const [word, options] = answers[0] as [string, { nonce: Uint8Array, auth: string, keepalive: boolean }]
    expect(word).toBe('HELO')
    return { client, answers, nonce: options.nonce, options }
  }
  const ping = (nonce: Uint8Array, key: string) => encode(['PING', 'shipper', 'salt', sha512('salt', 'shipper', nonce, key), '', ''])

  it('speaks first with HELO and a fresh nonce; a right PING gets a PONG that proves the server holds the key too', async () => {
    const l = await startListening({ streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, forwardPort: 0, forwardSharedKey: 'k3y' } })
    running.push(l)
    const first = await greeted(l)
    const second = await greeted(l)
    expect(first.options).toMatchObject({ auth: '', keepalive: true })
    expect(first.nonce).toHaveLength(16)
    expect(Buffer.from(first.nonce).equals(Buffer.from(second.nonce))).toBe(false)
    await first.client.write(ping(first.nonce, 'k3y'))
    await until(() => first.answers.length === 2)
    expect(first.answers[1]).toEqual(['PONG', true, '', 'logfire', sha512('salt', 'logfire', first.nonce, 'k3y')])
    await first.client.write(encode(['a', 1, { n: 1 }, { chunk: 'c1' }]))
    await until(() => first.answers.length === 3)
    expect(first.answers[2]).toEqual({ ack: 'c1' })
    expect(await l.entries()).toHaveLength(1)
    second.client.close()
    first.client.close()
  })

  it('refuses a wrong key, a PING made for another session\'s nonce, and events before any PING: a PONG with the reason, then the close, nothing stored', async () => {
    const l = await startListening({ streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, forwardPort: 0, forwardSharedKey: 'k3y' } })
    running.push(l)
    const attempts = [
      { send: (nonce: Uint8Array) => ping(nonce, 'wrong'), reason: 'shared key mismatch' },
      { send: () => ping(new Uint8Array(16), 'k3y'), reason: 'shared key mismatch' },
      { send: () => encode(['a', 1, { n: 1 }, { chunk: 'c1' }]), reason: 'PING expected: this server requires a shared key' }
    ]
    for (const attempt of attempts) {
      const { client, answers, nonce } = await greeted(l)
      await client.write(attempt.send(nonce))
      await until(() => client.ending !== undefined)
      expect(client.ending).toEqual({ kind: 'fin' })
      expect(answers[1]).toEqual(['PONG', false, attempt.reason, 'logfire', ''])
    }
    expect(await l.entries()).toEqual([])
    await until(async () => (await l.streams()).recent.length === 3)
    expect((await l.streams()).recent.every((connection) => connection.endedBy === 'unauthenticated' && connection.messages === 0)).toBe(true)
  })
})

describe('open mode: a Forward client names its fire with its ingest token as the handshake\'s username', () => {
  const running: Listening[] = []
  afterEach(async () => { await Promise.all(running.splice(0).map((l) => l.close())) })

  async function openListening () {
    const l = await startListening({ fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 }, streams: { ...STREAMS, syslogTcpPort: undefined, syslogUdpPort: undefined, forwardPort: 0, forwardSharedKey: 'k3y' } })
    running.push(l)
    const fire = (await l.app.inject({ method: 'POST', url: '/fires' })).json<{ ingestToken: string, viewToken: string }>()
    return { l, fire, entriesOf: () => chainEntries(l.app, { authorization: `Bearer ${fire.viewToken}`, 'x-logfire-chaos': 'off' }) }
  }

  async function handshake (l: Listening, username: string) {
    const client = await rawClient(l.forward)
    const answers: unknown[] = []
    client.socket.on('data', (chunk: Buffer) => { answers.push(...decodeMulti(chunk)) })
    await until(() => answers.length === 1)
    const [, options] = answers[0] as [string, { nonce: Uint8Array, auth: string }]
    const passwordDigest = createHash('sha512').update(options.auth).update(username).update('anything').digest('hex')
    await client.write(encode(['PING', 'shipper', 'salt', sha512('salt', 'shipper', options.nonce, 'k3y'), username, passwordDigest]))
    await until(() => answers.length === 2)
    return { client, answers, auth: options.auth }
  }

  it('asks for a username (HELO\'s auth salt); a fire\'s token there sends every message of the connection to that fire', async () => {
    const { l, fire, entriesOf } = await openListening()
    const { client, answers, auth } = await handshake(l, fire.ingestToken)
    expect(auth).toMatch(/^[0-9a-f]{32}$/)
    expect((answers[1] as unknown[]).slice(0, 4)).toEqual(['PONG', true, '', 'logfire'])
    await client.write(encode(['app', 1, { n: 1 }, { chunk: 'c1' }]))
    await until(() => answers.length === 3)
    expect(answers[2]).toEqual({ ack: 'c1' })
    expect(await entriesOf()).toEqual(['{"tag":"app","time":1,"record":{"n":1}}'])
    expect(await l.entries()).toEqual([])
    client.close()
  })

  it('answers any PING, whatever its username, with a PONG and never a throw; only a right shared key and a fire\'s token mark ask the fire', () => {
    const handshake = { sharedKey: 'k3y', nonce: Buffer.alloc(16, 7), hostname: 'logfire', authSalt: 'salt' }
    const username = fc.oneof(fc.string(), fc.constant(`lf_ing_${'a'.repeat(48)}`), fc.constant('lf_'), fc.integer(), fc.constant(null), fc.uint8Array({ maxLength: 8 }))
    fc.assert(fc.property(fc.string(), username, fc.boolean(), (hostname, name, rightKey) => {
      const answer = pong(handshake, ['PING', hostname, 'salt', rightKey ? sha512('salt', hostname, handshake.nonce, 'k3y') : 'x', name, 'whatever'])
      expect(answer.reply[0]).toBeDefined()
      if (answer.fireToken !== undefined) {
        expect(answer.ok).toBe(true)
        expect(name).toSatisfy((value: unknown) => typeof value === 'string' && value.startsWith('lf_'))
      }
    }), { numRuns: 5000 })
  })

  it('refuses a token that opens no fire in the PONG, and takes a client without a username to the public fire', async () => {
    const { l } = await openListening()
    const refused = await handshake(l, `lf_ing_${'Z'.repeat(48)}`)
    expect(refused.answers[1]).toEqual(['PONG', false, 'username/password mismatch: this token opens no fire', 'logfire', ''])
    await until(() => refused.client.ending !== undefined)
    const anonymous = await handshake(l, '')
    expect((anonymous.answers[1] as unknown[]).slice(0, 2)).toEqual(['PONG', true])
    await anonymous.client.write(encode(['app', 1, { n: 2 }, { chunk: 'c2' }]))
    await until(() => anonymous.answers.length === 3)
    expect(await l.entries()).toEqual(['{"tag":"app","time":1,"record":{"n":2}}'])
    anonymous.client.close()
  })
})

describe('PackedForward read straight from its bytes', () => {
  it('gives the same entries as decoding and serialising, for any record JSON can hold', () => {
    const record = fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
    const time = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }))
    fc.assert(fc.property(fc.array(fc.tuple(time, record), { minLength: 1, maxLength: 8 }), (events) => {
      const chunk = Buffer.concat(events.map((event) => encode(event)))
      const message = forwardMessage(['tag', chunk], 1 << 20)
      const expected = [...decodeMulti(chunk)].map((event) => {
        const [seconds, fields] = event as [number, unknown]
        return JSON.stringify({ tag: 'tag', time: seconds, record: fields })
      })
      expect(message?.entries).toEqual(expected)
    }), { seed: 20261206, numRuns: 2000 })
  })
})
