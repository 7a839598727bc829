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
    ['a frequency rule without its window', file(`  - { name: burst, type: frequency, threshold: 5, description: x, pattern: a, severity: low }
`), 'rules.yaml:2:5: rule "burst": withinSeconds: a frequency rule needs withinSeconds'],
    ['a window on an any rule', file(`  - name: plain
    description: x
    pattern: a
    severity: low
    threshold: 3
`), 'rules.yaml:6:16: rule "plain": threshold: applies to a frequency or flatline rule'],
    ['groupBy on a flatline rule', file(`  - name: quiet
    type: flatline
    threshold: 1
    withinSeconds: 60
    groupBy: $.host
    description: x
    pattern: a
    severity: low
`), 'rules.yaml:6:14: rule "quiet": groupBy: does not apply to a flatline rule'],
    ['a groupBy that is not a field', file(`  - { name: burst, type: frequency, threshold: 5, withinSeconds: 60, groupBy: sourceIPAddress, description: x, pattern: a, severity: low }
`), 'rules.yaml:2:79: rule "burst": groupBy: a field selector such as $.sourceIPAddress'],
    ['an unknown rule type', file(`  - { name: odd, type: spike, description: x, pattern: a, severity: low }
`), 'rules.yaml:2:24: rule "odd": type: Invalid option'],
    ['broken YAML', 'rules:\n  - name: [unclosed\n', 'rules.yaml:'],
    ['no rules list', 'name: x\n', 'rules.yaml: expected a top-level "rules:" list']
  ])('refuses %s, naming the rule, line and column', (_what, text, message) => {
    expect(() => loadRules(text, 'rules.yaml')).toThrow(message)
  })
})

describe('chaos outputs in a rules file', () => {
  const withOutput = (output: string) => `outputs:\n  monkeys: ${output}\nrules:\n  - { name: r, description: x, pattern: a, severity: low, outputs: [monkeys] }\n`

  it('takes a built-in scenario by name, a scenario document, a burn, or settings for a while', () => {
    expect(loadRules(withOutput('{ type: chaos, scenario: outage }'), 'rules.yaml').outputs.monkeys).toEqual({
      type: 'chaos', cooldownSeconds: 60, scenario: { name: 'outage', steps: [{ seconds: 30, chaos: 'fire' }] }
    })
    expect(loadRules(withOutput('{ type: chaos, scenario: { steps: [{ requests: 3, chaos: fire }] }, cooldownSeconds: 5 }'), 'rules.yaml').outputs.monkeys).toEqual({
      type: 'chaos', cooldownSeconds: 5, scenario: { steps: [{ requests: 3, chaos: 'fire' }] }
    })
    expect(loadRules(withOutput('{ type: chaos, burn: true }'), 'rules.yaml').outputs.monkeys).toEqual({ type: 'chaos', cooldownSeconds: 60, burn: true })
    expect(loadRules(withOutput('{ type: chaos, set: { fireRate: 0.5 }, seconds: 120 }'), 'rules.yaml').outputs.monkeys).toEqual({
      type: 'chaos', cooldownSeconds: 60, scenario: { steps: [{ seconds: 120, set: { fireRate: 0.5 } }] }
    })
  })

  it.each([
    ['an unknown scenario', '{ type: chaos, scenario: apocalypse }', 'rules.yaml:2:12: output "monkeys": scenario: no built-in scenario is called "apocalypse" (there are talk, flaky, outage, brownout, hostile-network)'],
    ['a name every object has', '{ type: chaos, scenario: constructor }', 'output "monkeys": scenario: no built-in scenario is called "constructor"'],
    ['two actions', '{ type: chaos, burn: true, scenario: outage }', 'output "monkeys": a chaos output does exactly one of "scenario", "burn: true" or "set"'],
    ['settings without a duration', '{ type: chaos, set: { fireRate: 1 } }', 'output "monkeys": "set" needs "seconds"'],
    ['a rate out of range', '{ type: chaos, set: { fireRate: 2 }, seconds: 5 }', 'output "monkeys": set.fireRate:'],
    ['a step with a bad directive', '{ type: chaos, scenario: { steps: [{ requests: 1, chaos: explode }] } }', 'output "monkeys": scenario: step 1: chaos: explode']
  ])('refuses %s, naming the output', (_what, output, message) => {
    expect(() => loadRules(withOutput(output), 'rules.yaml')).toThrow(message)
  })
})
