import { z } from 'zod'
import { parseFilterPattern, type Matcher } from './filter-pattern.js'
import { compileTemplate, type Escape } from './template.js'

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const
export type Severity = typeof SEVERITIES[number]

/** A rule as written in a rules file, or in the built-in pack. */
export const ruleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, { error: 'lower-case letters, digits, ".", "_" and "-"' }).max(100),
  description: z.string().min(1).max(2000).describe('The alert\'s message; {{$.field}} placeholders are filled from the event'),
  pattern: z.string().max(10_000).describe('A CloudWatch Logs filter pattern'),
  severity: z.enum(SEVERITIES),
  outputs: z.array(z.string().min(1)).min(1).default(['log']),
  cooldownSeconds: z.number().int().min(0).max(86_400).optional()
})

export type RuleDefinition = z.input<typeof ruleSchema>

export interface Rule {
  name: string
  severity: Severity
  outputs: string[]
  cooldownSeconds: number
  /** Whether the pattern reads JSON fields, so the entry must be parsed. */
  json: boolean
  matches: Matcher
  describe: (record: unknown, escape?: Escape) => string
}

/** Parses a rule's pattern and description once; throws FilterPatternError on a bad pattern. */
export function compileRule (definition: RuleDefinition): Rule {
  const rule = ruleSchema.parse(definition)
  return {
    name: rule.name,
    severity: rule.severity,
    outputs: rule.outputs,
    cooldownSeconds: rule.cooldownSeconds ?? 0,
    json: rule.pattern.trim().startsWith('{'),
    matches: parseFilterPattern(rule.pattern),
    describe: compileTemplate(rule.description)
  }
}
