import { describe, expect, it } from 'vitest'
import { loadRules } from '../../src/alerts/load.js'

const file = (rules: string) => `rules:\n${rules}`

describe('loadRules', () => {
  it('reads YAML and JSON rules files', () => {
    const yaml = loadRules(file(`  - name: root-usage
    description: Root used from {{$.sourceIPAddress}}
    pattern: '{ $.userIdentity.type = "Root" }'
    severity: critical
    outputs: [log]
    cooldownSeconds: 30
`), 'rules.yaml')
    expect(yaml.rules.map((rule) => [rule.name, rule.severity, rule.outputs, rule.cooldownSeconds, rule.json])).toEqual([['root-usage', 'critical', ['log'], 30, true]])
    expect(yaml.rules[0]?.matches('{"userIdentity":{"type":"Root"}}')).toBe(true)

    const json = loadRules(JSON.stringify({ rules: [{ name: 'errors', description: 'An error', pattern: 'ERROR', severity: 'low' }] }), 'rules.json')
    expect(json.rules.map((rule) => [rule.name, rule.outputs, rule.json])).toEqual([['errors', ['log'], false]])
  })

  it.each([
    ['a bad pattern, pointing into it', file(`  - name: broken
    description: x
    pattern: '{ $.a = }'
    severity: high
`), 'rules.yaml:4:23: rule "broken": pattern: expected a value after = at column 9'],
    ['an unknown severity', file(`  - name: loud
    description: x
    pattern: ERROR
    severity: apocalyptic
`), 'rules.yaml:5:15: rule "loud": severity:'],
    ['an unknown output', file(`  - name: chatty
    description: x
    pattern: ERROR
    severity: low
    outputs: [log, carrier-pigeon]
`), 'rules.yaml:6:14: rule "chatty": unknown output "carrier-pigeon" (defined: log)'],
    ['a duplicate name', file(`  - { name: twice, description: x, pattern: a, severity: low }
  - { name: twice, description: y, pattern: b, severity: low }
`), 'rules.yaml:3:13: rule "twice": a rule of that name comes earlier'],
    ['a field that does not exist', file(`  - { name: typo, description: x, pattern: a, severity: low, cooldown: 5 }
`), 'rules.yaml:2:5: rule "typo":'],
    ['broken YAML', 'rules:\n  - name: [unclosed\n', 'rules.yaml:'],
    ['no rules list', 'name: x\n', 'rules.yaml: expected a top-level "rules:" list']
  ])('refuses %s, naming the rule, line and column', (_what, text, message) => {
    expect(() => loadRules(text, 'rules.yaml')).toThrow(message)
  })
})
