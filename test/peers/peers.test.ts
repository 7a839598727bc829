import { once } from 'node:events'
import fc from 'fast-check'
import { WebSocket } from 'ws'
import { describe, expect } from 'vitest'
import type { Config } from '../../src/config.js'
import { loadConfig } from '../../src/config.js'
import { createHash } from 'node:crypto'
import { eventually } from '../e2e/shippers/harness.js'
import { openStream } from '../sse-client.js'
import { it, type Defer } from '../defer.js'
import { appForTest, type TestApp } from '../helpers.js'
import { NaivechainNode } from './naivechain-node.js'

const P2P = loadConfig({ LOGFIRE_P2P_PORT: '6001' }).p2p

describe('logfire as a naivechain peer', () => {
  async function logfire (defer: Defer, p2p: Partial<Config['p2p']> = {}, overrides: Partial<Config> = {}) {
    const app = await appForTest(defer, { adminToken: 'admin', p2p: { ...P2P, ...p2p }, ...overrides }, { clock: Date.now })
    const port = await app.peers!.listen(0, '127.0.0.1')
    return { app, url: `ws://127.0.0.1:${port}` }
  }
  async function naivechain (defer: Defer) {
    const node = new NaivechainNode()
    defer(() => node.close())
    return node
  }
  const post = (app: TestApp, body: string) => app.inject({ method: 'POST', url: '/logs', payload: body, headers: { 'x-logfire-chaos': 'off' } })
  const chainOf = async (app: TestApp) => (await app.inject({ method: 'GET', url: '/logs', headers: { 'x-logfire-chaos': 'off' } })).json() as unknown[]
  const identical = async (app: TestApp, node: NaivechainNode) => {
    await eventually(async () => { expect(JSON.stringify(node.blockchain)).toBe(JSON.stringify(await chainOf(app))) })
  }

  it('syncs a naivechain node from empty, then follows single appends and batches of 1,000 to an identical chain', async ({ defer }) => {
    const { app, url } = await logfire(defer)
    await post(app, 'before the peer\nalso before')
    const node = await naivechain(defer)
    await node.connect(url)
    await identical(app, node)
    for (let i = 0; i < 5; i++) {
      await post(app, `single ${i}`)
      await identical(app, node)
    }
    for (let batch = 0; batch < 3; batch++) {
      await post(app, Array.from({ length: 1000 }, (_, i) => `batch ${batch} line ${i}`).join('\n'))
      await identical(app, node)
    }
    expect(node.blockchain).toHaveLength(3008)
    // The peer tells of its new head once it has taken the chain.
    await eventually(async () => {
      expect((await app.inject({ method: 'GET', url: '/peers' })).json()).toMatchObject({ enabled: true, length: 3008, remembering: 0, peers: [{ direction: 'in', length: 3008 }] })
    })
  })

  it('after a burn the peer keeps the longer, burnt chain; it follows logfire again once the new chain is longer', async ({ defer }) => {
    const { app, url } = await logfire(defer)
    await post(app, 'one\ntwo\nthree')
    const node = await naivechain(defer)
    await node.connect(url)
    await identical(app, node)
    const burnt = JSON.stringify(node.blockchain)
    await app.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer admin' } })
    await post(app, 'after the fire')
    await eventually(async () => { expect((await app.inject({ method: 'GET', url: '/peers' })).json()).toMatchObject({ remembering: 1 }) })
    expect(JSON.stringify(node.blockchain)).toBe(burnt)
    await post(app, 'a\nb\nc\nd')
    await identical(app, node)
    expect((await app.inject({ method: 'GET', url: '/peers' })).json()).toMatchObject({ remembering: 0 })
  })

  it('does not send a chain over LOGFIRE_P2P_MAX_CHAIN_MESSAGE_BYTES: the peer keeps its own until logfire\'s is small enough again', async ({ defer }) => {
    const { app, url } = await logfire(defer, { maxChainMessageBytes: 4096 })
    await post(app, Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n'))
    const node = await naivechain(defer)
    await node.connect(url)
    await eventually(() => { expect(app.peers!.counts.messagesIn).toBeGreaterThanOrEqual(3) })
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(node.blockchain).toHaveLength(1)
    await app.inject({ method: 'DELETE', url: '/logs', headers: { authorization: 'Bearer admin' } })
    await post(app, 'small again\nand again')
    await identical(app, node)
  })

  it('dials a peer added with POST /admin/peers, and dials it again after it restarts', async ({ defer }) => {
    const { app } = await logfire(defer)
    const node = await naivechain(defer)
    const port = await node.listen()
    await post(app, 'for the dialled peer')
    const added = await app.inject({ method: 'POST', url: '/admin/peers', payload: { peer: `ws://127.0.0.1:${port}` }, headers: { authorization: 'Bearer admin' } })
    expect(added.statusCode).toBe(202)
    await identical(app, node)
    await node.close()
    await eventually(() => { expect(app.peers!.size).toBe(0) })
    const again = await naivechain(defer)
    await again.listen(port)
    await post(app, 'while it was away')
    await eventually(() => { expect(again.blockchain).toHaveLength(3) }, 15_000)
    await identical(app, again)
  }, 30_000)

  it('refuses blocks a naivechain node mines (float timestamps) with a logged reason, and keeps its own chain', async ({ defer }) => {
    const { app, url } = await logfire(defer)
    const node = await naivechain(defer)
    await node.connect(url)
    await eventually(() => { expect(app.peers!.size).toBe(1) })
    // Half past a second: on a whole second naivechain's timestamp is an
    // integer (one time in a thousand), and logfire rightly takes the block.
    node.mine('mined by naivechain', Math.floor(Date.now() / 1000) * 1000 + 500)
    await eventually(() => { expect(app.peers!.counts.refused['bad-block']).toBe(1) })
    expect(await chainOf(app)).toHaveLength(1)
  })

  it('refuses hostile peers and counts them, never a crash: bad JSON, wrong types, string-less data, a forged hash, oversized messages, floods, 10,000 connection attempts', async ({ defer }) => {
    const { app, url } = await logfire(defer, { maxMessageBytes: 4096, messagesPerSecond: 20, maxPeers: 5 })
    await post(app, 'still here')
    const hostile = new WebSocket(url)
    await once(hostile, 'open')
    const forged = { ...(await chainOf(app))[1] as object, hash: 'f'.repeat(64) }
    for (const message of ['not json', '[]', '{"type":7}', '{"type":2,"data":[1]}', '{"type":2,"data":"[]"}', '{"type":2,"data":"{"}', JSON.stringify({ type: 2, data: JSON.stringify([forged]) })]) hostile.send(message)
    await eventually(() => { expect(app.peers!.counts.refused).toMatchObject({ malformed: 5, 'unknown-type': 1, 'bad-block': 1 }) })

    hostile.send('x'.repeat(5000))
    await once(hostile, 'close')
    expect(app.peers!.counts.refused['too-large']).toBe(1)

    const flooder = new WebSocket(url)
    await once(flooder, 'open')
    for (let i = 0; i < 100; i++) flooder.send('{"type":0}')
    await once(flooder, 'close')
    expect(app.peers!.counts.refused.flood).toBeGreaterThan(0)

    // 10,000 connection attempts, 100 at a time: 5 stay, every other one is refused.
    let attempts = 0
    const attempt = () => new Promise<void>((resolve) => {
      const socket = new WebSocket(url)
      socket.on('open', () => { resolve() })
      socket.on('error', () => { resolve() })
    })
    await Promise.all(Array.from({ length: 100 }, async () => { while (attempts++ < 10_000) await attempt() }))
    await eventually(() => { expect(app.peers!.counts.refused.connection).toBeGreaterThanOrEqual(9_995) })
    expect(app.peers!.size).toBe(5)
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200)
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body
    expect(metrics).toMatch(/logfire_peers_connected 5/)
    expect(metrics).toMatch(/logfire_peer_refused_total\{reason="bad-block"\} 1/)
    expect(metrics).toMatch(/logfire_peer_messages_total\{direction="in"\} \d+/)
  })

  it('keeps every invariant under fuzzed peer messages: no crash, the chain unchanged and valid, every refusal counted', async ({ defer }) => {
    const { app, url } = await logfire(defer, { messagesPerSecond: 1_000_000 })
    await post(app, 'the chain before')
    const before = JSON.stringify(await chainOf(app))
    const socket = new WebSocket(url)
    await once(socket, 'open')
    const block = fc.record({ index: fc.oneof(fc.nat(), fc.double(), fc.string()), previousHash: fc.string(), timestamp: fc.oneof(fc.nat(), fc.double()), data: fc.jsonValue(), hash: fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 })) }, { requiredKeys: [] })
    const frame = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.record({ type: fc.oneof(fc.integer({ min: -1, max: 3 }), fc.string()), data: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.array(block, { maxLength: 3 }).map((blocks) => JSON.stringify(blocks))) }, { requiredKeys: ['type'] }).map((message) => JSON.stringify(message))
    )
    const frames = fc.sample(frame, { numRuns: 500, seed: 42 })
    for (const text of frames) socket.send(text)
    socket.send('{"type":0}')
    await eventually(() => { expect(app.peers!.counts.messagesIn).toBe(frames.length + 1) })
    expect(JSON.stringify(await chainOf(app))).toBe(before)
    expect((await app.inject({ method: 'GET', url: '/logs/verify' })).json()).toMatchObject({ valid: true })
    expect(socket.readyState).toBe(WebSocket.OPEN)
    socket.terminate()
  })

  it('with LOGFIRE_P2P_ACCEPT=longest, adopts a longer valid chain from a logfire peer: a burn and a replaced event, nothing counted as delivered', async ({ defer }) => {
    const longer = await logfire(defer)
    const rootUsage = JSON.stringify({ userIdentity: { type: 'Root' }, eventName: 'DeleteTrail', eventType: 'AwsApiCall', sourceIPAddress: '198.51.100.7' })
    await post(longer.app, ['logfire-canary run=elsewhere seq=1 sent=1700000000000', rootUsage, 'c', 'd'].join('\n'))
    const alertsOf = async (target: TestApp) => (await target.inject({ method: 'GET', url: '/alerts', headers: { authorization: 'Bearer admin' } })).json().alerts as unknown[]
    await eventually(async () => { expect((await alertsOf(longer.app)).length).toBeGreaterThan(0) })
    const { app } = await logfire(defer, { accept: 'longest' })
    await post(app, 'mine, shorter')
    await app.inject({ method: 'PUT', url: '/scorecard/elsewhere' })
    const base = await app.listen({ port: 0, host: '127.0.0.1' })
    const stream = openStream(`${base}/logs/stream`)
    defer(async () => { stream.close() })
    await stream.connected()
    app.peers!.dial(longer.url)
    await eventually(async () => { expect(JSON.stringify(await chainOf(app))).toBe(JSON.stringify(await chainOf(longer.app))) })
    expect((await app.inject({ method: 'GET', url: '/logs/verify' })).json()).toMatchObject({ valid: true, length: 5 })
    await eventually(() => { expect(stream.events.find((event) => event.event === 'replaced')).toBeDefined() })
    expect(stream.events.find((event) => event.event === 'replaced')!.data).toMatchObject({ from: 2, to: 5 })
    expect(stream.events.find((event) => event.event === 'burn')!.data).toMatchObject({ reason: 'replaced', burned: 1 })
    expect((await app.inject({ method: 'GET', url: '/scorecard/elsewhere' })).json()).toMatchObject({ delivered: 0 })
    expect(await alertsOf(app)).toEqual([])
  })

  it('with LOGFIRE_P2P_ACCEPT=longest, refuses a longer chain that does not verify, and one a naivechain node mined', async ({ defer }) => {
    const { app, url } = await logfire(defer, { accept: 'longest' })
    const socket = new WebSocket(url)
    await once(socket, 'open')
    const genesis = (await chainOf(app))[0] as { hash: string }
    const unlinked = [genesis, { index: 1, previousHash: 'a'.repeat(64), timestamp: 1, data: 'x', hash: '' }]
    unlinked[1] = { ...unlinked[1] as object, hash: createHash('sha256').update('1' + 'a'.repeat(64) + '1x').digest('hex') } as typeof genesis
    socket.send(JSON.stringify({ type: 2, data: JSON.stringify(unlinked) }))
    await eventually(() => { expect(app.peers!.counts.refused['bad-chain']).toBe(1) })
    const node = await naivechain(defer)
    const halfPast = Math.floor(Date.now() / 1000) * 1000 + 500
    node.mine('a float timestamp', halfPast)
    node.mine('another', halfPast + 1)
    await node.connect(url)
    await eventually(() => { expect(app.peers!.counts.refused['bad-block']).toBeGreaterThan(0) })
    expect(await chainOf(app)).toHaveLength(1)
    socket.terminate()
  })

  it('POST /admin/peers takes only ws:// and wss:// URLs to loopback or private addresses, and is a 404 with the network off', async ({ defer }) => {
    const { app } = await logfire(defer)
    const add = (target: TestApp, peer: string) => target.inject({ method: 'POST', url: '/admin/peers', payload: { peer }, headers: { authorization: 'Bearer admin' } })
    expect((await add(app, 'http://127.0.0.1:6001')).statusCode).toBe(400)
    expect((await add(app, 'ws://203.0.113.9:6001')).json()).toMatchObject({ statusCode: 400, code: 'LOGFIRE_PEER_NOT_ALLOWED' })
    expect((await add(app, 'ws://[::1]:6001')).statusCode).toBe(202)
    const off = await appForTest(defer, { adminToken: 'admin' })
    expect((await add(off, 'ws://127.0.0.1:6001')).json()).toMatchObject({ statusCode: 404, code: 'LOGFIRE_P2P_DISABLED' })
    expect((await off.inject({ method: 'GET', url: '/peers' })).json()).toEqual({ enabled: false, length: 1, remembering: 0, peers: [] })
  })
})
