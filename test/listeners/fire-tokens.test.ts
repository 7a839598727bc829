import { createSocket } from 'node:dgram'
import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { fireTokenOf } from '../../src/listeners/fire-token.js'
import { chainEntries, testConfig } from '../helpers.js'
import { rawClient, startListening, STREAMS, until, type Listening } from './listening.js'

const TOKEN = `lf_ing_${'a'.repeat(47)}B`

describe('a fire\'s token in a syslog message', () => {
  it.each([
    ['first in the line, as Rapid7\'s token TCP takes it', `${TOKEN} <13>Dec  6 20:30:04 host app: hello`, '<13>Dec  6 20:30:04 host app: hello'],
    ['an RFC 5424 SD element of its own', `<13>1 2026-12-06T20:30:04Z host app 12 ID1 [logfire token="${TOKEN}"] hello`, '<13>1 2026-12-06T20:30:04Z host app 12 ID1 - hello'],
    ['an SD element with an enterprise number, among others', `<13>1 2026-12-06T20:30:04Z host app 12 ID1 [a@1 x="y\\]"][logfire@32473 token="${TOKEN}"][b@2 z="1"] hello`, '<13>1 2026-12-06T20:30:04Z host app 12 ID1 [a@1 x="y\\]"][b@2 z="1"] hello'],
    ['the first word of an RFC 5424 message', `<13>1 2026-12-06T20:30:04Z host app 12 ID1 - ${TOKEN} hello`, '<13>1 2026-12-06T20:30:04Z host app 12 ID1 - hello'],
    ['the first word after structured data and a BOM', `<13>1 2026-12-06T20:30:04Z host app 12 ID1 [a@1 x="y"] \uFEFF${TOKEN} hello`, '<13>1 2026-12-06T20:30:04Z host app 12 ID1 [a@1 x="y"] \uFEFFhello'],
    ['the first word of an RFC 3164 message', `<13>Dec  6 20:30:04 host app[123]: ${TOKEN} hello`, '<13>Dec  6 20:30:04 host app[123]: hello'],
    ['the first word of RFC 3164 with an RFC 3339 timestamp', `<13>2026-12-06T20:30:04+00:00 host app: ${TOKEN} hello`, '<13>2026-12-06T20:30:04+00:00 host app: hello']
  ])('is found %s, and taken out of what is stored', (_, message, stored) => {
    expect(fireTokenOf(message)).toEqual({ token: TOKEN, message: stored })
  })

  it.each([
    ['further into the message', `<13>Dec  6 20:30:04 host app: hello ${TOKEN}`],
    ['in a line with no syslog header', `plain ${TOKEN}`],
    ['a view token', `lf_view_${'a'.repeat(48)} <13>Dec  6 20:30:04 host app: hello`],
    ['a token one character short', `${TOKEN.slice(0, -1)} hello`],
    ['in another SD element', `<13>1 2026-12-06T20:30:04Z host app 12 ID1 [other token="${TOKEN}"] hello`]
  ])('is not found %s: the message goes to the public fire unchanged', (_, message) => {
    expect(fireTokenOf(message)).toBeUndefined()
  })

  it('never throws, and never stores a message longer than it came, or with the token still in it', () => {
    const part = fc.oneof(fc.constantFrom(TOKEN, ' ', '[', ']', '"', '\\', '=', '<13>', '1 ', '- ', 'logfire', 'logfire@1', ' token="', ': ', '\uFEFF', 'Dec  6 20:30:04 '), fc.string({ maxLength: 20 }))
    fc.assert(fc.property(fc.array(part, { maxLength: 30 }).map((parts) => parts.join('')), (message) => {
      const found = fireTokenOf(message)
      if (found === undefined) return
      expect(found.token).toBe(TOKEN)
      expect(found.message.length).toBeLessThan(message.length)
      expect(message.split(TOKEN).length - found.message.split(TOKEN).length).toBe(1)
    }), { numRuns: 20_000 })
  })

  it('decides a hostile megabyte in linear time', () => {
    const hostile = '<13>1 2026-12-06T20:30:04Z host app 12 ID1 ' + '[a x="'.repeat(100_000) + TOKEN
    const began = performance.now()
    fireTokenOf(hostile)
    fireTokenOf(`<13>Dec  6 20:30:04 ${'h'.repeat(1_000_000)}: ${TOKEN}`)
    expect(performance.now() - began).toBeLessThan(1000)
  })
})

describe('open mode: stream messages find their fire by its token', () => {
  const open: Listening[] = []
  afterEach(async () => { await Promise.all(open.splice(0).map((l) => l.close())) })

  async function listening () {
    const l = await startListening({ fires: { ...testConfig().fires, mode: 'open', createRateLimit: 0 }, streams: { ...STREAMS, relpPort: 0 } })
    open.push(l)
    const create = async () => (await l.app.inject({ method: 'POST', url: '/fires' })).json<{ ingestToken: string, viewToken: string }>()
    const entriesOf = (fire: { viewToken: string }) => chainEntries(l.app, { authorization: `Bearer ${fire.viewToken}`, 'x-logfire-chaos': 'off' })
    return { l, create, entriesOf }
  }

  it('on one TCP connection: each message to its own fire, the token taken out, a bad token dropped and counted, the rest to the public fire', async () => {
    const { l, create, entriesOf } = await listening()
    const [a, b] = [await create(), await create()]
    const client = await rawClient(l.tcp)
    const lines = [
      `${a.ingestToken} <13>Dec  6 20:30:04 host app: to a, first in the line`,
      `<13>1 2026-12-06T20:30:04Z host app - - [logfire token="${b.ingestToken}"] to b, in structured data`,
      '<13>Dec  6 20:30:04 host app: to the public fire',
      `<13>Dec  6 20:30:04 host app: ${a.viewToken} a view token does not write`,
      `<13>Dec  6 20:30:04 host app: lf_ing_${'Z'.repeat(48)} nor an unknown one`,
      `<13>1 2026-12-06T20:30:04Z host app - - - ${a.ingestToken} to a again`
    ]
    await client.write(lines.map((line) => line + '\n').join(''))
    await until(async () => (await entriesOf(a)).length === 2 && (await entriesOf(b)).length === 1)
    expect(await entriesOf(a)).toEqual(['<13>Dec  6 20:30:04 host app: to a, first in the line', '<13>1 2026-12-06T20:30:04Z host app - - - to a again'])
    expect(await entriesOf(b)).toEqual(['<13>1 2026-12-06T20:30:04Z host app - - - to b, in structured data'])
    // The view token's line has no ingest token in it: it is an ordinary line of the public fire.
    expect(await l.entries()).toEqual(['<13>Dec  6 20:30:04 host app: to the public fire', `<13>Dec  6 20:30:04 host app: ${a.viewToken} a view token does not write`])
    const [live] = (await l.streams()).live
    expect(live).toMatchObject({ messages: 6, stored: 5, refused: { token: 1 } })
    client.close()
  })

  it('over UDP, and over RELP, which answers a bad token with rsp 500', async () => {
    const { l, create, entriesOf } = await listening()
    const fire = await create()
    const udp = createSocket('udp4')
    udp.send(`<13>Dec  6 20:30:04 host app: ${fire.ingestToken} over udp`, l.udp, '127.0.0.1')
    await until(async () => (await entriesOf(fire)).length === 1)
    udp.close()
    const relp = await rawClient(l.relp)
    let answers = ''
    relp.socket.on('data', (chunk: Buffer) => { answers += chunk.toString() })
    const frame = (txnr: number, command: string, data: string) => `${txnr} ${command} ${Buffer.byteLength(data)} ${data}\n`
    await relp.write(frame(1, 'open', 'relp_version=0\ncommands=syslog') + frame(2, 'syslog', `<13>1 2026-12-06T20:30:04Z host app - - - ${fire.ingestToken} over relp`) + frame(3, 'syslog', `<13>1 2026-12-06T20:30:04Z host app - - - lf_ing_${'Z'.repeat(48)} refused`))
    await until(() => answers.includes('3 rsp'))
    expect(answers).toContain('2 rsp 6 200 OK\n')
    expect(answers).toMatch(/3 rsp \d+ 500 401 /)
    expect(await entriesOf(fire)).toEqual(['<13>Dec  6 20:30:04 host app: over udp', '<13>1 2026-12-06T20:30:04Z host app - - - over relp'])
    relp.close()
  })

  it('meets each message with its own fire\'s chaos: a fire set to lp0 drops its lines, the public fire\'s still land', async () => {
    const { l, create, entriesOf } = await listening()
    const hot = await create()
    const burning = (await l.app.inject({ method: 'POST', url: '/fires' })).json<{ ingestToken: string, viewToken: string, adminToken: string }>()
    expect((await l.app.inject({ method: 'PATCH', url: '/admin/chaos', payload: { fireRate: 1 }, headers: { authorization: `Bearer ${burning.adminToken}` } })).statusCode).toBe(200)
    const client = await rawClient(l.tcp)
    await client.write([`${burning.ingestToken} on fire`, `${hot.ingestToken} calm fire`, '<13>Dec  6 20:30:04 host app: public'].map((line) => line + '\n').join(''))
    await until(async () => (await l.entries()).length === 1 && (await entriesOf(hot)).length === 1)
    expect(await entriesOf(burning)).toEqual([])
    expect((await l.streams()).live[0]).toMatchObject({ stored: 2, refused: { lp0: 1 } })
    client.close()
  })

  it('leaves tokens alone in single mode: the line is stored as it came, in the one fire', async () => {
    const l = await startListening()
    open.push(l)
    const client = await rawClient(l.tcp)
    await client.write(`${TOKEN} <13>Dec  6 20:30:04 host app: single\n`)
    await until(async () => (await l.entries()).length === 1)
    expect(await l.entries()).toEqual([`${TOKEN} <13>Dec  6 20:30:04 host app: single`])
    client.close()
  })
})
