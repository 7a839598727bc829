import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { builtinRules, flatlineRule } from '../../src/alerts/builtin.js'
import { NOT_JSON, readJson } from '../../src/alerts/filter-pattern.js'
import { compileRule } from '../../src/alerts/rule.js'
import { CIS_PATTERNS } from './cis-patterns.js'

// Rule tests are data: test/rules/<rule>.json holds real-shaped records, each
// listing exactly the built-in rules it must fire (for a frequency rule:
// count toward its threshold).
interface Sample { description: string, record?: unknown, line?: string, fires: string[] }
const RULES_DIR = new URL('../rules/', import.meta.url)
const files = readdirSync(RULES_DIR).filter((file) => file.endsWith('.json'))
const samples = new Map(files.map((file) => [file.replace(/\.json$/, ''), (JSON.parse(readFileSync(new URL(file, RULES_DIR), 'utf8')) as { samples: Sample[] }).samples]))

const definitions = builtinRules({ adminRolePattern: '*Admin*' })
const rules = definitions.map(compileRule)

function fired (sample: Sample): string[] {
  const entry = sample.line ?? JSON.stringify(sample.record)
  const record = readJson(entry)
  return rules.filter((rule) => rule.matches(entry, record ?? NOT_JSON)).map((rule) => rule.name).sort()
}

describe('the built-in rule pack', () => {
  it('uses every CIS monitoring pattern exactly as published', () => {
    for (const [item, pattern] of CIS_PATTERNS) {
      const number = item.split('/').at(-1) as string
      const rule = definitions.find((d) => d.name.startsWith(`cis-${number}-`))
      expect(rule?.pattern, item).toBe(pattern)
    }
  })

  it.each(definitions.map((d) => d.name))('%s has samples that fire it and samples that must not', (name) => {
    const own = samples.get(name)
    expect(own, `test/rules/${name}.json`).toBeDefined()
    expect(own?.some((sample) => sample.fires.includes(name)), 'a positive sample').toBe(true)
    expect(own?.some((sample) => !sample.fires.includes(name)), 'a negative sample').toBe(true)
  })

  it('adds the flatline rule only when asked, matching every entry', () => {
    expect(definitions.some((d) => d.type === 'flatline')).toBe(false)
    expect(builtinRules({ adminRolePattern: '*Admin*', flatlineSeconds: 300 })[0]).toEqual(flatlineRule(300))
    const rule = compileRule(flatlineRule(300))
    expect([rule.matches('any line at all'), rule.matches('{"a":1}', { a: 1 })]).toEqual([true, true])
    expect(rule.window).toMatchObject({ type: 'flatline', threshold: 1, withinMs: 300_000 })
  })

  it('has no sample file for a rule that does not exist', () => {
    expect([...samples.keys()].filter((name) => !definitions.some((d) => d.name === name))).toEqual([])
  })

  const all = [...samples].flatMap(([file, list]) => list.map((sample) => [`${file}: ${sample.description}`, sample] as const))
  it.each(all)('%s fires exactly the rules it lists', (_name, sample) => {
    expect(fired(sample)).toEqual([...sample.fires].sort())
  })
})
