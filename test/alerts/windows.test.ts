import { describe, expect, it } from 'vitest'
import { AlertEngine, type Alert } from '../../src/alerts/engine.js'
import { compileRule, type RuleDefinition } from '../../src/alerts/rule.js'

/** An engine on fake time: `advance` moves the clock and runs the timers that come due, in order. */
function engine (definitions: RuleDefinition[]) {
  let now = 1_700_000_000_000
  let timers: Array<{ at: number, run: () => void }> = []
  const delivered: Alert[] = []
  const e = new AlertEngine({
    rules: definitions.map(compileRule),
    clock: () => now,
    deliver: (alert) => delivered.push(alert),
    setTimer: (run, ms) => timers.push({ at: now + ms, run })
  })
  const advance = (ms: number) => {
    const until = now + ms
    for (;;) {
      const due = timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0]
      if (due === undefined) break
      timers = timers.filter((timer) => timer !== due)
      now = Math.max(now, due.at)
      due.run()
    }
    now = until
  }
  const store = (...entries: string[]) => {
    e.enqueue(entries, 1, 0)
    e.flush()
  }
  return { e, delivered, advance, store, timers: () => timers.length }
}

const failedLogin = (ip: string) => JSON.stringify({ eventName: 'ConsoleLogin', errorMessage: 'Failed authentication', sourceIPAddress: ip })
const LOGINS = {
  name: 'console-login-burst',
  type: 'frequency',
  threshold: 5,
  withinSeconds: 60,
  groupBy: '$.sourceIPAddress',
  severity: 'high',
  description: '5 failed console sign-ins from {{$.sourceIPAddress}} within a minute',
  pattern: '{ $.eventName = "ConsoleLogin" && $.errorMessage = "Failed authentication" }'
} satisfies RuleDefinition

describe('a frequency rule', () => {
  it('alerts at the threshold of matches within the window, per groupBy value, then counts again from zero', () => {
    const { delivered, advance, store } = engine([LOGINS])
    for (let i = 0; i < 4; i++) store(failedLogin('203.0.113.9'), failedLogin('198.51.100.7'))
    expect(delivered).toEqual([])
    store(failedLogin('203.0.113.9'))
    expect(delivered).toEqual([expect.objectContaining({ rule: 'console-login-burst', count: 5, group: '203.0.113.9', description: '5 failed console sign-ins from 203.0.113.9 within a minute' })])
    // The group starts over: four more are not five.
    store(...Array.from({ length: 4 }, () => failedLogin('203.0.113.9')))
    expect(delivered).toHaveLength(1)
    advance(10_000)
    store(failedLogin('198.51.100.7'))
    expect(delivered.map((alert) => alert.group)).toEqual(['203.0.113.9', '198.51.100.7'])
  })

  it('forgets matches older than the window', () => {
    const { delivered, advance, store } = engine([LOGINS])
    for (let i = 0; i < 4; i++) {
      store(failedLogin('203.0.113.9'))
      advance(15_000)
    }
    // The first of them is a minute old now: three in the last minute, and this one.
    store(failedLogin('203.0.113.9'))
    expect(delivered).toEqual([])
    store(failedLogin('203.0.113.9'))
    expect(delivered).toHaveLength(1)
  })

  it('counts without groupBy over every match, and a text entry makes a group of its own', () => {
    const { delivered, store } = engine([
      { name: 'ssh-burst', type: 'frequency', threshold: 3, withinSeconds: 60, severity: 'medium', description: 'SSH brute force', pattern: 'sshd "Failed password"' },
      { name: 'by-host', type: 'frequency', threshold: 2, withinSeconds: 60, groupBy: '$.host', severity: 'low', description: 'x', pattern: 'sshd' }
    ])
    store('sshd[1]: Failed password for root', 'sshd[2]: Failed password for tom', 'sshd[3]: Failed password for root')
    expect(delivered.map((alert) => [alert.rule, alert.count, alert.group])).toEqual([['by-host', 2, '?'], ['ssh-burst', 3, undefined]])
  })

  it('holds at most maxGroups values, forgetting the one matched longest ago', () => {
    const { e, delivered, store } = engine([{ ...LOGINS, threshold: 2, maxGroups: 100 }])
    store(failedLogin('10.0.0.0'))
    for (let i = 1; i <= 100; i++) store(failedLogin(`10.0.0.${i}`))
    // 10.0.0.0 was forgotten to make room: its second match is a first again.
    store(failedLogin('10.0.0.0'))
    expect(delivered).toEqual([])
    // 10.0.0.100 is still counted.
    store(failedLogin('10.0.0.100'))
    expect(delivered.map((alert) => alert.group)).toEqual(['10.0.0.100'])
    expect(e).toBeDefined()
  })

  it('merges repeats of a group within its cooldown into a digest, each group on its own', () => {
    const { delivered, advance, store } = engine([{ ...LOGINS, threshold: 1, cooldownSeconds: 60 }])
    store(failedLogin('a'), failedLogin('a'), failedLogin('b'), failedLogin('a'))
    expect(delivered.map((alert) => [alert.group, alert.digest])).toEqual([['a', false], ['b', false]])
    advance(60_000)
    expect(delivered.map((alert) => [alert.group, alert.digest, alert.count])).toEqual([['a', false, 1], ['b', false, 1], ['a', true, 2]])
  })
})

const QUIET = {
  name: 'shipper-went-quiet',
  type: 'flatline',
  threshold: 2,
  withinSeconds: 60,
  severity: 'high',
  description: 'Fewer than 2 heartbeats in a minute: the shipper went quiet',
  pattern: 'heartbeat'
} satisfies RuleDefinition

describe('a flatline rule', () => {
  it('fires once when its matches fall below the threshold, and resolves when they are back', () => {
    const { delivered, advance, store, timers } = engine([QUIET])
    // The first window runs from the start; heartbeats at 30 s and 60 s keep
    // two in the window until the first is a minute old.
    advance(30_000)
    store('heartbeat', 'heartbeat')
    advance(30_000)
    store('heartbeat')
    advance(29_999)
    expect(delivered).toEqual([])
    advance(1)
    expect(delivered).toEqual([expect.objectContaining({ rule: 'shipper-went-quiet', count: 1, description: 'Fewer than 2 heartbeats in a minute: the shipper went quiet' })])
    expect(delivered[0]?.block).toBeUndefined()
    // Quiet for an hour: still one alert, and one look a window ahead.
    advance(3_600_000)
    expect(delivered).toHaveLength(1)
    expect(timers()).toBe(1)
    // One heartbeat is not two within a minute; the second resolves it.
    store('heartbeat')
    expect(delivered).toHaveLength(1)
    advance(5_000)
    store('heartbeat')
    expect(delivered).toHaveLength(2)
    expect(delivered[1]).toMatchObject({ rule: 'shipper-went-quiet', resolves: delivered[0]?.id, count: 2 })
    // And it watches again.
    advance(65_000)
    expect(delivered).toHaveLength(3)
    expect(delivered[2]?.resolves).toBeUndefined()
  })

  it('fires a window after the start when nothing matched at all', () => {
    const { delivered, advance } = engine([{ ...QUIET, threshold: 1 }])
    advance(59_999)
    expect(delivered).toEqual([])
    advance(1)
    expect(delivered).toEqual([expect.objectContaining({ count: 0 })])
  })

  it('keeps one timer however many matches come', () => {
    const { advance, store, timers } = engine([QUIET])
    for (let i = 0; i < 1000; i++) store('heartbeat')
    advance(1000)
    for (let i = 0; i < 1000; i++) store('heartbeat')
    expect(timers()).toBe(1)
  })

  it('sends nothing after the engine stops', () => {
    const { e, delivered, advance } = engine([QUIET])
    e.stop()
    advance(120_000)
    expect(delivered).toEqual([])
  })
})
