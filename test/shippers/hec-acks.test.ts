import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { NO_BATCH_CHAOS } from '../../src/fire/batches.js'
import { canaryLine } from '../../src/scorecard/token.js'
import { AckLedger } from '../../src/shippers/hec/acks.js'
import { appsClosedAfterEach, chainEntries, type TestApp } from '../helpers.js'
import { startLogfire } from '../e2e/shippers/harness.js'

describe('AckLedger', () => {
  it('counts ids per channel from 0, reports true once indexed, then forgets it', () => {
    let now = 1000
    const ledger = new AckLedger({ maxChannels: 10, maxPendingAcks: 10 }, () => now)
    expect([ledger.issue('a', now), ledger.issue('a', now + 500), ledger.issue('b', Infinity)]).toEqual([0, 1, 0])
    expect(ledger.query('a', [0, 1, 7])).toEqual({ 0: true, 1: false, 7: false })
    expect(ledger.query('a', [0])).toEqual({ 0: false })
    now += 500
    expect(ledger.query('a', [1])).toEqual({ 1: true })
    expect(ledger.query('b', [0])).toEqual({ 0: false })
  })

  it('forgets the oldest pending id past maxPendingAcks, and the least recently used channel past maxChannels', () => {
    const ledger = new AckLedger({ maxChannels: 2, maxPendingAcks: 2 }, () => 0)
    for (let i = 0; i < 3; i++) ledger.issue('a', 0)
    expect(ledger.query('a', [0, 1, 2])).toEqual({ 0: false, 1: true, 2: true })
    ledger.issue('b', 0)
    ledger.issue('a', 0)
    ledger.issue('c', 0)
    expect(ledger.channels).toBe(2)
    expect(ledger.query('b', [0])).toEqual({ 0: false })
  })
})

describe('HEC indexer acknowledgement', () => {
  const start = appsClosedAfterEach()
  const channel = '5f0e1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b'
  const event = (app: TestApp, headers: Record<string, string> = {}, url = '/services/collector/event', payload = '{"event":"acked"}') =>
    app.inject({ method: 'POST', url, payload, headers })
  const ack = (app: TestApp, ids: unknown, headers: Record<string, string> = { 'x-splunk-request-channel': channel }) =>
    app.inject({ method: 'POST', url: '/services/collector/ack', payload: JSON.stringify({ acks: ids }), headers: { 'content-type': 'application/json', ...headers } })

  it('is off by default: no channel needed, no ackId, and /ack answers code 14', async () => {
    const app = await start()
    expect((await event(app)).json()).toEqual({ text: 'Success', code: 0 })
    expect((await ack(app, [0])).json()).toMatchObject({ code: 14, text: 'ACK is disabled' })
  })

  it('with LOGFIRE_HEC_ACK, needs a UUID channel (code 10, 11), gives ackIds per channel, from the header or ?channel=', async () => {
    const app = await start({ hecAck: true })
    expect([(await event(app)).statusCode, (await event(app)).json().code]).toEqual([400, 10])
    expect((await event(app, { 'x-splunk-request-channel': 'not-a-uuid' })).json()).toMatchObject({ code: 11, text: 'Invalid data channel' })
    expect((await event(app, { 'x-splunk-request-channel': channel })).json()).toEqual({ text: 'Success', code: 0, ackId: 0 })
    expect((await event(app, {}, `/services/collector/raw?channel=${channel.toUpperCase()}`, 'a raw line')).json()).toEqual({ text: 'Success', code: 0, ackId: 1 })
    expect((await ack(app, [0, 1, 2])).json()).toEqual({ acks: { 0: true, 1: true, 2: false } })
    expect((await ack(app, [0])).json()).toEqual({ acks: { 0: false } })
    expect((await ack(app, [])).json()).toMatchObject({ code: 6 })
    expect((await ack(app, [0], {})).json()).toMatchObject({ code: 10 })
    expect(await chainEntries(app)).toEqual(['acked', 'a raw line'])
  })

  it('answers any body and any channel on /ack with a HEC reply: 200 with booleans, or a 400 with a non-zero code, never a 5xx', async () => {
    const app = await start({ hecAck: true, fireRate: 0 })
    await event(app, { 'x-splunk-request-channel': channel })
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.array(fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double(), fc.string(), fc.constant(2 ** 60)), { maxLength: 20 }).map((acks) => JSON.stringify({ acks })),
      fc.string({ maxLength: 200 }),
      fc.constantFrom('{"acks":{"__proto__":[0]}}', '{"__proto__":{"acks":[0]}}', `{"acks":[${Array.from({ length: 10_001 }, () => 0).join(',')}]}`)
    )
    const channelHeader = fc.oneof(fc.constant(channel), fc.constant(channel.toUpperCase()), fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }))
    await fc.assert(fc.asyncProperty(body, channelHeader, async (payload, header) => {
      const response = await app.inject({ method: 'POST', url: '/services/collector/ack', payload, headers: { 'content-type': 'application/json', 'x-splunk-request-channel': header } })
      expect([200, 400]).toContain(response.statusCode)
      const reply = response.json()
      if (response.statusCode === 200) expect(Object.values(reply.acks).every((value) => typeof value === 'boolean')).toBe(true)
      else expect(reply.code).toBeGreaterThan(0)
    }), { numRuns: 300 })
  })

  it('ackLossRate: the request is answered 200 with an ackId, nothing is stored, the ack never turns true, and the scorecard counts it', async () => {
    const app = await start({ hecAck: true, batches: { ...NO_BATCH_CHAOS, ackLossRate: 1 } })
    await app.inject({ method: 'PUT', url: '/scorecard/hec' })
    const response = await event(app, { 'x-splunk-request-channel': channel }, '/services/collector/event', JSON.stringify({ event: canaryLine('hec', 1, 1_700_000_000_000) }))
    expect(response.json()).toEqual({ text: 'Success', code: 0, ackId: 0 })
    expect((await ack(app, [0])).json()).toEqual({ acks: { 0: false } })
    expect(await chainEntries(app)).toEqual([])
    expect((await app.inject({ method: 'GET', url: '/scorecard/hec' })).json()).toMatchObject({ delivered: 0, refusedLines: { 200: 1 } })
  })
})

/**
 * A client that polls acks as Vector's splunk_hec_logs sink does: a random
 * UUID channel, one ackId per accepted request, a query every `intervalMs`
 * for every id still pending, each id given up after `retries` queries
 * without a true (Vector: every 10 s, 30 times).
 */
async function shipWithAcks (base: string, batches: string[][], options: { intervalMs: number, retries: number }) {
  const channel = randomUUID()
  const pending = new Map<number, { lines: string[], tries: number }>()
  const delivered: string[] = []
  const rejected: string[] = []
  for (const lines of batches) {
    const response = await fetch(`${base}/services/collector/event`, {
      method: 'POST',
      headers: { 'x-splunk-request-channel': channel, authorization: 'Splunk token' },
      body: lines.map((line) => JSON.stringify({ event: line })).join('')
    })
    const reply = await response.json() as { code: number, ackId?: number }
    if (response.status === 200 && reply.ackId !== undefined) pending.set(reply.ackId, { lines, tries: options.retries })
  }
  while (pending.size > 0) {
    await sleep(options.intervalMs)
    const response = await fetch(`${base}/services/collector/ack`, {
      method: 'POST',
      headers: { 'x-splunk-request-channel': channel, 'content-type': 'application/json' },
      body: JSON.stringify({ acks: [...pending.keys()] })
    })
    const { acks } = await response.json() as { acks: Record<string, boolean> }
    for (const [id, batch] of pending) {
      if (acks[String(id)] === true) {
        delivered.push(...batch.lines)
        pending.delete(id)
      } else if (--batch.tries === 0) {
        rejected.push(...batch.lines)
        pending.delete(id)
      }
    }
  }
  return { delivered, rejected }
}

describe('a client polling acks as Vector does', () => {
  it('sees lost acks as rejected and late ones delivered: exactly what the chain holds', async () => {
    const logfire = await startLogfire({ hecAck: true, seed: 'vector-acks', batches: { ...NO_BATCH_CHAOS, ackLossRate: 0.3, ackDelayRate: 0.4, ackDelayMs: 300 } })
    try {
      const batches = Array.from({ length: 20 }, (_, b) => [`batch ${b} line 1`, `batch ${b} line 2`])
      const { delivered, rejected } = await shipWithAcks(logfire.base, batches, { intervalMs: 100, retries: 8 })
      expect(rejected.length).toBeGreaterThan(0)
      expect(delivered.length + rejected.length).toBe(40)
      expect([...await logfire.entries()].sort()).toEqual([...delivered].sort())
    } finally {
      await logfire.close()
    }
  })
})
