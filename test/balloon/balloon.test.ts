import { afterEach, describe, expect, it } from 'vitest'
import { outputSchema, resolveOutput } from '../../src/alerts/outputs/config.js'
import { isLocalHost } from '../../src/http/hosts.js'
import { Balloon } from '../../src/balloon/balloon.js'
import { kasaRequest, plugDriver, pulseTime, type DriverConfig } from '../../src/balloon/drivers.js'
import { fakeHttpPlug, fakeKasa } from './fake-plugs.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => { for (const close of closers.splice(0)) await close() })

function balloon (driver: DriverConfig, options: { armed?: boolean, seconds?: number, cooldownSeconds?: number, claim?: (ms: number) => Promise<boolean> } = {}) {
  let now = 0
  const logged: string[] = []
  const waits: number[] = []
  const b = new Balloon({
    name: 'stage',
    driver: plugDriver(driver),
    seconds: options.seconds ?? 10,
    cooldownSeconds: options.cooldownSeconds ?? 30,
    armed: options.armed ?? true,
    clock: () => now,
    log: (level, _fields, message) => logged.push(`${level}: ${message}`),
    wait: async (ms) => { waits.push(ms) },
    ...(options.claim === undefined ? {} : { claim: options.claim })
  })
  return { b, logged, waits, advance: (ms: number) => { now += ms } }
}

describe('the balloon on a Kasa plug', () => {
  it('sets the device-side auto-off before switching on, confirms on, then switches off after the pulse and confirms', async () => {
    const plug = await fakeKasa()
    closers.push(plug.close)
    const { b, waits } = balloon({ driver: 'kasa', host: '127.0.0.1', port: plug.port }, { seconds: 8 })
    expect(await b.pulse()).toBe('pulsed')
    expect(plug.state.log).toEqual(['delete_all_rules', 'add_rule delay=8 act=0', 'set_relay_state 1', 'get_sysinfo', 'set_relay_state 0', 'get_sysinfo'])
    expect(waits).toEqual([8000])
    expect(plug.state.relay).toBe(0)
  })

  it('leaves the plug alone while another replica holds it, and claims it for the pulse and its cooldown', async () => {
    const plug = await fakeKasa()
    closers.push(plug.close)
    const claims: number[] = []
    let free = false
    const { b, advance } = balloon({ driver: 'kasa', host: '127.0.0.1', port: plug.port }, { seconds: 8, cooldownSeconds: 30, claim: async (ms) => { claims.push(ms); return free } })
    expect(await b.pulse()).toBe('merged')
    expect(plug.state.log).toEqual([])
    advance(60_000)
    free = true
    expect(await b.pulse()).toBe('pulsed')
    expect(claims).toEqual([38_000, 38_000])
    expect(plug.state.relay).toBe(0)
  })

  it('reads replies that arrive a byte at a time', async () => {
    const plug = await fakeKasa({ splitReplies: true })
    closers.push(plug.close)
    expect(await kasaRequest('127.0.0.1', plug.port, { system: { get_sysinfo: {} } })).toMatchObject({ system: { get_sysinfo: { relay_state: 0 } } })
  })

  it('fails cleanly on garbage, a refused connection, or a plug that never switches on', async () => {
    const garbage = await fakeKasa({ garbage: true })
    closers.push(garbage.close)
    await expect(kasaRequest('127.0.0.1', garbage.port, { system: { get_sysinfo: {} } })).rejects.toThrow(/unreadable reply|closed the connection/)
    await expect(kasaRequest('127.0.0.1', 9, { system: { get_sysinfo: {} } }, 500)).rejects.toThrow()
    const slow = await fakeKasa({ delayMs: 1000 })
    closers.push(slow.close)
    await expect(kasaRequest('127.0.0.1', slow.port, { system: { get_sysinfo: {} } }, 200)).rejects.toThrow(/no answer from 127\.0\.0\.1:\d+ within 200 ms/)

    const stuck = await fakeKasa({ stuckOff: true })
    closers.push(stuck.close)
    const { b, logged } = balloon({ driver: 'kasa', host: '127.0.0.1', port: stuck.port })
    expect(await b.pulse()).toBe('failed')
    expect(logged.at(-1)).toMatch(/^error: balloon pulse failed/)
    expect(stuck.state.log.at(-2)).toBe('set_relay_state 0')
  })
})

describe('the balloon on HTTP plugs', () => {
  it.each([
    ['shelly-gen1', ['/relay/0?turn=on&timer=5', '/relay/0', '/relay/0?turn=off', '/relay/0']],
    ['shelly-gen2', ['/rpc/Switch.Set?id=0&on=true&toggle_after=5', '/rpc/Switch.GetStatus?id=0', '/rpc/Switch.Set?id=0&on=false', '/rpc/Switch.GetStatus?id=0']],
    ['tasmota', ['/cm?cmnd=PulseTime 50', '/cm?cmnd=Power On', '/cm?cmnd=Power', '/cm?cmnd=Power Off', '/cm?cmnd=Power']]
  ] as const)('%s: auto-off with the on, confirmed, then off', async (driver, expected) => {
    const plug = await fakeHttpPlug()
    closers.push(plug.close)
    const { b } = balloon({ driver, host: '127.0.0.1', port: plug.port }, { seconds: 5 })
    expect(await b.pulse()).toBe('pulsed')
    expect(plug.state.log).toEqual(expected)
    expect(plug.state.on).toBe(false)
  })

  it("converts seconds to Tasmota's PulseTime", () => {
    expect([1, 5, 11.1, 12, 15].map(pulseTime)).toEqual([10, 50, 111, 112, 115])
  })
})

describe('balloon safety', () => {
  it('switches nothing until armed', async () => {
    const plug = await fakeKasa()
    closers.push(plug.close)
    const { b, logged } = balloon({ driver: 'kasa', host: '127.0.0.1', port: plug.port }, { armed: false })
    expect(await b.pulse()).toBe('dry-run')
    expect(plug.state.log).toEqual([])
    expect(logged).toEqual(['info: balloon (dry run, not armed): would inflate'])
  })

  it('makes one pulse of a burst, and pulses again after the cooldown', async () => {
    const plug = await fakeKasa()
    closers.push(plug.close)
    const { b, advance } = balloon({ driver: 'kasa', host: '127.0.0.1', port: plug.port }, { seconds: 5, cooldownSeconds: 30 })
    const burst = await Promise.all([b.pulse(), b.pulse(), b.pulse()])
    expect(burst.sort()).toEqual(['merged', 'merged', 'pulsed'])
    advance(20_000)
    expect(await b.pulse()).toBe('merged')
    advance(20_000)
    expect(await b.pulse()).toBe('pulsed')
    expect(b.merged).toBe(3)
  })

  it('refuses pulses over 15 s and hosts outside loopback and private networks unless allowed', () => {
    const output = (fields: object) => outputSchema.parse({ type: 'balloon', driver: 'kasa', host: '192.168.1.50', ...fields })
    expect(() => output({ seconds: 16 })).toThrow()
    expect(output({})).toMatchObject({ armed: false, seconds: 10, cooldownSeconds: 30 })
    expect(() => resolveOutput(output({ host: '203.0.113.5' }), {})).toThrow(/not a loopback or private-network address/)
    expect(() => resolveOutput(output({ host: 'plug.example.com' }), {})).toThrow(/allowPublicHost/)
    expect(resolveOutput(output({ host: '203.0.113.5', allowPublicHost: true }), {})).toMatchObject({ host: '203.0.113.5' })
    expect(['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.0.9', 'localhost', '::1', 'fd00::1'].every(isLocalHost)).toBe(true)
    expect(['172.32.0.1', '8.8.8.8', '2001:db8::1', 'example.com'].some(isLocalHost)).toBe(false)
  })
})
