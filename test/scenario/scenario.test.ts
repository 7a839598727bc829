import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { BUILT_IN_SCENARIOS, loadScenario, parseScenario, scenarioSchema, type Scenario } from '../../src/scenario/document.js'
import { appsClosedAfterEach, chainEntries, type TestApp } from '../helpers.js'

describe('scenario documents', () => {
  it('reads YAML and JSON, and names the file, the line and the step of a mistake', () => {
    expect(parseScenario('steps:\n  - requests: 3\n    chaos: fire\n', 'flaky.yaml')).toEqual({ steps: [{ requests: 3, chaos: 'fire' }] })
    expect(parseScenario('{"loop": true, "steps": [{"seconds": 30, "set": {"fireRate": 1}}]}', 'outage.json')).toMatchObject({ loop: true })
    expect(() => parseScenario('steps:\n  - requests: 3\n  - requests: 1\n    seconds: 2\n', 'bad.yaml')).toThrow(/^bad\.yaml:3:5: step 2: a step takes exactly one of/)
    expect(() => parseScenario('steps:\n  - requests: 3\n    chaos: sparkle\n', 'bad.yaml')).toThrow(/^bad\.yaml:2:5: step 1: chaos: sparkle: not a directive/)
    expect(() => parseScenario('steps:\n  - seconds: 3\n    set: { fireRate: 2 }\n', 'bad.yaml')).toThrow(/step 1: set\.fireRate/)
    expect(() => parseScenario('steps: [\n', 'bad.yaml')).toThrow(/^bad\.yaml:\d+:\d+: /)
  })

  it('keeps every built-in a valid document, so a replica that joins one can read it', () => {
    for (const scenario of Object.values(BUILT_IN_SCENARIOS)) expect(scenarioSchema.safeParse(scenario).success).toBe(true)
    expect(BUILT_IN_SCENARIOS['hostile-network']?.steps[0]?.set).toMatchObject({ streamStallResetRate: 0.0005, streamResetRate: 0.0005 })
  })

  it('takes "messages" steps for stream messages, with their own directives and a protocol to match', () => {
    expect(parseScenario('{"steps": [{"messages": 500}, {"messages": 1, "chaos": "stall=3000, reset", "match": {"protocol": "syslog-tcp"}}]}', 'loss.json').steps).toHaveLength(2)
    expect(() => parseScenario('steps:\n  - messages: 1\n    chaos: status=503\n', 'bad.yaml')).toThrow(/step 1: chaos: status=503: not a stream directive/)
    expect(() => parseScenario('steps:\n  - requests: 1\n    chaos: stall=100\n', 'bad.yaml')).toThrow(/step 1: chaos: stall=100: not a directive/)
    expect(() => parseScenario('steps:\n  - messages: 1\n    match: { route: /logs }\n', 'bad.yaml')).toThrow(/a "messages" step matches protocol/)
    expect(() => parseScenario('steps:\n  - messages: 1\n    match: { protocol: gopher }\n', 'bad.yaml')).toThrow(/match\.protocol/)
    expect(() => parseScenario('steps:\n  - messages: 1\n    chaos: stall=100, close\n', 'bad.yaml')).toThrow(/stall goes with reset only/)
    // A step of time takes either kind: each side meets the directives it knows.
    expect(parseScenario('steps:\n  - seconds: 5\n    chaos: stall=100\n', 'time.yaml').steps).toHaveLength(1)
    expect(parseScenario('steps:\n  - seconds: 5\n    chaos: delay=100\n', 'time.yaml').steps).toHaveLength(1)
  })

  it('tells a built-in name from a path: a name is letters, digits and dashes, anything else is read as a file', () => {
    expect(loadScenario('flaky', () => { throw new Error('never read') })).toBe(BUILT_IN_SCENARIOS.flaky)
    expect(() => loadScenario('nope', () => '')).toThrow(/no built-in scenario "nope": the built-ins are talk, flaky, outage, brownout, hostile-network; a file needs a path, e.g. \.\/nope\.yaml/)
    // A name every object has is not a built-in.
    expect(() => loadScenario('constructor', () => '')).toThrow(/no built-in scenario "constructor"/)
    expect(loadScenario('./flaky', () => 'steps: [{ requests: 1, chaos: fire }]')).toEqual({ steps: [{ requests: 1, chaos: 'fire' }] })
    expect(() => loadScenario('./missing.yaml', () => { throw Object.assign(new Error('x'), { code: 'ENOENT' }) })).toThrow('cannot read ./missing.yaml: ENOENT')
  })
})

describe('a running scenario', () => {
  const start = appsClosedAfterEach()
  afterEach(() => { vi.useRealTimers() })
  const post = (app: TestApp, body = 'a line', headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/logs', payload: body, headers })
  const statuses = async (app: TestApp, count: number, body?: string) => {
    const seen: number[] = []
    for (let i = 0; i < count; i++) seen.push((await post(app, body)).statusCode)
    return seen
  }
  const admin = (app: TestApp, method: 'GET' | 'PUT' | 'POST' | 'DELETE', url = '/admin/scenario', payload?: unknown) =>
    app.inject({ method, url, payload: payload as object, headers: { authorization: 'Bearer admin' } })

  it('flaky: 3 × 503, then accept; the line lands once', async () => {
    const app = await start({ adminToken: 'admin' }, { scenario: BUILT_IN_SCENARIOS.flaky })
    expect(await statuses(app, 4)).toEqual([503, 503, 503, 200])
    expect(await chainEntries(app)).toEqual(['a line'])
    expect((await admin(app, 'GET')).json()).toMatchObject({ scenario: { name: 'flaky', step: 0, ended: true, matched: 3 } })
  })

  it('decides before the roll, which is still drawn: later requests meet the fates they would have met', async () => {
    const seeded = { fireRate: 0.5, seed: 'scenario-replay', adminToken: 'admin' }
    const plain = await start(seeded)
    const withScenario = await start(seeded, { scenario: BUILT_IN_SCENARIOS.flaky })
    const without = await statuses(plain, 20)
    const withIt = await statuses(withScenario, 20)
    expect(withIt.slice(0, 3)).toEqual([503, 503, 503])
    expect(withIt.slice(3)).toEqual(without.slice(3))
  })

  it('lets X-Logfire-Chaos win, without counting the request', async () => {
    const app = await start({}, { scenario: BUILT_IN_SCENARIOS.flaky })
    expect((await post(app, 'forced', { 'x-logfire-chaos': 'off' })).statusCode).toBe(200)
    expect(await statuses(app, 4)).toEqual([503, 503, 503, 200])
  })

  it('counts only the requests that match its route, method and headers', async () => {
    const scenario: Scenario = { steps: [{ requests: 2, match: { route: '/services/collector*', method: 'post', headers: { 'user-agent': 'Vector' } }, chaos: 'fire' }] }
    const app = await start({}, { scenario })
    const hec = (agent?: string) => app.inject({ method: 'POST', url: '/services/collector/event', payload: '{"event":"x"}', headers: agent === undefined ? {} : { 'user-agent': agent } })
    expect((await post(app)).statusCode).toBe(200)
    expect((await hec()).statusCode).toBe(200)
    expect([(await hec('Vector/0.40')).statusCode, (await hec('vector/0.40')).statusCode, (await hec('Vector/0.40')).statusCode]).toEqual([503, 503, 200])
  })

  it('outage: 503 for 30 s of fake time, then recovers', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const app = await start({}, { clock: Date.now, scenario: BUILT_IN_SCENARIOS.outage })
    expect(await statuses(app, 2)).toEqual([503, 503])
    vi.advanceTimersByTime(29_000)
    expect(await statuses(app, 1)).toEqual([503])
    vi.advanceTimersByTime(1_000)
    expect(await statuses(app, 2)).toEqual([200, 200])
  })

  it('changes settings for a step, and restores them when it ends; burns when a step says so; loops', async () => {
    const app = await start({ adminToken: 'admin', fireRate: 0.05 })
    await post(app, 'before the burn')
    const started = await admin(app, 'PUT', '/admin/scenario', { name: 'by hand', steps: [{ pause: true, set: { fireRate: 1 } }, { pause: true, burn: true }] })
    expect(started.json()).toMatchObject({ scenario: { name: 'by hand', step: 1, of: 2, description: 'fireRate=1: until the next step' } })
    expect((await admin(app, 'GET', '/admin/chaos')).json()).toMatchObject({ fireRate: 1 })
    expect((await admin(app, 'POST', '/admin/scenario/next')).json()).toMatchObject({ scenario: { step: 2, description: 'burn now: until the next step' } })
    expect((await admin(app, 'GET', '/admin/chaos')).json()).toMatchObject({ fireRate: 0.05 })
    expect(await chainEntries(app)).toEqual([])
    expect((await admin(app, 'POST', '/admin/scenario/next')).json()).toMatchObject({ scenario: { step: 0, ended: true } })

    await admin(app, 'PUT', '/admin/scenario', { loop: true, steps: [{ requests: 1, chaos: 'fire' }, { requests: 1, chaos: 'off' }] })
    expect(await statuses(app, 5)).toEqual([503, 200, 503, 200, 503])
    expect((await admin(app, 'DELETE')).json()).toEqual({ scenario: null })
    expect((await admin(app, 'PUT', '/admin/scenario', { steps: [{ requests: 1, seconds: 1 }] })).statusCode).toBe(400)
    expect((await admin(app, 'PUT', '/admin/scenario', { steps: [{ requests: 1, chaos: 'sparkle' }] })).json()).toMatchObject({ statusCode: 400, message: expect.stringContaining('sparkle') })
  })

  it('talk: two lines land, the chain burns, a line about Europe meets GDPR, the printer catches fire', async () => {
    const app = await start({}, { scenario: BUILT_IN_SCENARIOS.talk })
    const beats = [
      (await post(app, 'hello')).statusCode,
      (await post(app, 'world')).statusCode,
      (await post(app, 'one more')).statusCode,
      (await post(app, 'shipped from eu-west-1')).statusCode,
      (await post(app, 'and now')).statusCode,
      (await post(app, 'calm again')).statusCode
    ]
    expect(beats).toEqual([200, 200, 410, 451, 503, 200])
  })

  it('takes any PUT body: a valid scenario runs, anything else is a 400 that changes nothing, never a 5xx', async () => {
    const app = await start({ adminToken: 'admin', adminRateLimit: 0 })
    const value = fc.oneof(fc.integer({ min: -2, max: 5 }), fc.double(), fc.boolean(), fc.string({ maxLength: 20 }), fc.constantFrom('fire', 'delay=5', 'sparkle', 'off, burn'))
    const step = fc.dictionary(fc.constantFrom('requests', 'seconds', 'pause', 'chaos', 'burn', 'set', 'match', 'x'), value, { maxKeys: 3 })
    const body = fc.oneof(fc.record({ steps: fc.array(step, { maxLength: 3 }), loop: fc.boolean() }, { requiredKeys: ['steps'] }), fc.jsonValue({ maxDepth: 2 }))
    await fc.assert(fc.asyncProperty(body, async (payload) => {
      const response = await app.inject({ method: 'PUT', url: '/admin/scenario', payload: JSON.stringify(payload), headers: { authorization: 'Bearer admin', 'content-type': 'application/json' } })
      expect([200, 400]).toContain(response.statusCode)
      await admin(app, 'DELETE')
    }), { numRuns: 200 })
  })
})
