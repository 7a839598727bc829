import { describe, expect, it } from 'vitest'
import { AlertEngine, type Alert } from '../../src/alerts/engine.js'
import { compileRule, type RuleDefinition } from '../../src/alerts/rule.js'
import { compileTemplate } from '../../src/alerts/template.js'

const ROOT = { name: 'root-usage', severity: 'critical', description: 'Root used from {{$.sourceIPAddress}}', pattern: '{ $.userIdentity.type = "Root" }' } satisfies RuleDefinition
const SSH = { name: 'ssh-failures', severity: 'medium', description: 'Failed SSH password', pattern: 'sshd "Failed password"', cooldownSeconds: 60 } satisfies RuleDefinition

function engine (definitions: RuleDefinition[], options: { maxQueueBytes?: number } = {}) {
  let now = 1_700_000_000_000
  const timers: Array<{ at: number, run: () => void }> = []
  const delivered: Alert[] = []
  const e = new AlertEngine({
    rules: definitions.map(compileRule),
    clock: () => now,
    deliver: (alert) => delivered.push(alert),
    setTimer: (run, ms) => timers.push({ at: now + ms, run }),
    ...options
  })
  const advance = (ms: number) => {
    now += ms
    for (const timer of timers.splice(0)) {
      if (timer.at <= now) timer.run()
      else timers.push(timer)
    }
  }
  return { e, delivered, advance }
}

const root = (ip: string) => JSON.stringify({ userIdentity: { type: 'Root' }, sourceIPAddress: ip })

describe('AlertEngine', () => {
  it('evaluates entries only after the call that stored them has returned', async () => {
    const { e, delivered } = engine([ROOT])
    e.enqueue([root('198.51.100.7')], 1, 0)
    expect(delivered).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(delivered).toEqual([expect.objectContaining({
      id: 1, rule: 'root-usage', severity: 'critical', description: 'Root used from 198.51.100.7', block: { epoch: 0, index: 1 }, count: 1, digest: false
    })])
  })

  it('matches a JSON rule on a field spelt with escapes, which its text does not name as such', () => {
    const { e } = engine([ROOT])
    e.enqueue(['{"user\\u0049dentity":{"type":"Root"},"sourceIPAddress":"a"}', '{"userIdentity":{"type":"Root"},"sourceIPAddress":"b"}'], 1, 0)
    e.flush()
    expect(e.recent.map((alert) => alert.description)).toEqual(['Root used from b', 'Root used from a'])
  })

  it('fills a text rule\'s template from a JSON entry that names no field a JSON rule needs', () => {
    const { e } = engine([ROOT, { ...SSH, description: 'Failed SSH password from {{$.host}}' }])
    e.enqueue([JSON.stringify({ host: 'web-1', msg: 'sshd[1]: Failed password for root' })], 1, 0)
    e.flush()
    expect(e.recent.map((alert) => alert.description)).toEqual(['Failed SSH password from web-1'])
  })

  it('names the block of each match and keeps recent alerts newest first', () => {
    const { e } = engine([ROOT])
    e.enqueue(['not json', root('a'), 'plain', root('b')], 10, 2)
    e.flush()
    expect(e.recent.map((alert) => [alert.description, alert.block?.index])).toEqual([['Root used from b', 13], ['Root used from a', 11]])
  })

  it('sends the first match of a rule at once and merges the rest of its cooldown into one digest', () => {
    const { e, delivered, advance } = engine([SSH])
    const line = 'host sshd[1]: Failed password for root from 203.0.113.9'
    e.enqueue([line, line, line], 1, 0)
    e.flush()
    expect(delivered.map((alert) => alert.count)).toEqual([1])
    advance(30_000)
    e.enqueue([line], 4, 0)
    e.flush()
    expect(delivered).toHaveLength(1)
    advance(30_000)
    expect(delivered).toHaveLength(2)
    expect(delivered[1]).toMatchObject({ digest: true, count: 3, description: '3 more in 60 s; the last: Failed SSH password', block: { index: 4 } })
    // After the window, the next match is sent at once again.
    e.enqueue([line], 5, 0)
    e.flush()
    expect(delivered.map((alert) => alert.digest)).toEqual([false, true, false])
  })

  it('sends no digest for a window with no further match', () => {
    const { e, delivered, advance } = engine([SSH])
    e.enqueue(['sshd: Failed password'], 1, 0)
    e.flush()
    advance(120_000)
    expect(delivered).toHaveLength(1)
  })

  it('drops, and counts, entries beyond its queue\'s bytes rather than grow without bound', () => {
    const two = (root('a').length + root('b').length) * 2
    const { e, delivered } = engine([ROOT], { maxQueueBytes: two })
    e.enqueue([root('a'), root('b')], 1, 0)
    expect(e.queuedBytes).toBe(two)
    e.enqueue([root('c')], 3, 0)
    e.flush()
    expect(e.dropped).toBe(1)
    expect(delivered).toHaveLength(2)
    expect(e.queuedBytes).toBe(0)
    // Drained, the queue takes entries again: a long line counts by its length.
    const long = root('x'.repeat(two))
    e.enqueue([long], 4, 0)
    expect(e.dropped).toBe(2)
    e.enqueue([root('d')], 5, 0)
    e.flush()
    expect(delivered).toHaveLength(3)
  })
})

describe('compileTemplate', () => {
  it('fills placeholders from the record, escapes them, and shows ? for missing fields', () => {
    const describe = compileTemplate('{{$.userIdentity.arn}} assumed {{ $.requestParameters.roleArn }} from {{$.sourceIPAddress}} ({{$.list[1]}})')
    const record = { userIdentity: { arn: 'arn:aws:iam::1:user/<tom>' }, requestParameters: { roleArn: 'Admin' }, list: [1, { a: 2 }] }
    expect(describe(record)).toBe('arn:aws:iam::1:user/<tom> assumed Admin from ? ({"a":2})')
    expect(describe(record, (value) => value.replace(/</g, '&lt;'))).toBe('arn:aws:iam::1:user/&lt;tom> assumed Admin from ? ({"a":2})')
    expect(describe(undefined)).toBe('? assumed ? from ? (?)')
  })
})
