import { z } from 'zod'
import { compileFilterPattern, type Matcher } from './filter-pattern.js'
import { compileTemplate, FIELD_SELECTOR, fieldText, selectField, type Escape } from './template.js'

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const
export type Severity = typeof SEVERITIES[number]

/** ElastAlert's names: every match alerts; N matches within T alert; fewer than N within T alert. */
export const RULE_TYPES = ['any', 'frequency', 'flatline'] as const

const WINDOW_FIELDS = ['threshold', 'withinSeconds', 'groupBy', 'maxGroups'] as const

/** A rule as written in a rules file, or in the built-in pack. */
export const ruleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, { error: 'lower-case letters, digits, ".", "_" and "-"' }).max(100),
  type: z.enum(RULE_TYPES).default('any').describe('any: every match alerts; frequency: at least threshold matches within withinSeconds; flatline: fewer than threshold'),
  description: z.string().min(1).max(2000).describe('The alert\'s message; {{$.field}} placeholders are filled from the event'),
  pattern: z.string().max(10_000).describe('A CloudWatch Logs filter pattern'),
  severity: z.enum(SEVERITIES),
  outputs: z.array(z.string().min(1)).min(1).default(['log']),
  cooldownSeconds: z.number().int().min(0).max(86_400).optional(),
  threshold: z.number().int().min(1).max(1000).optional(),
  withinSeconds: z.number().positive().max(86_400).optional(),
  groupBy: z.string().regex(FIELD_SELECTOR, { error: 'a field selector such as $.sourceIPAddress' }).optional()
    .describe('frequency: count each value of this field on its own'),
  maxGroups: z.number().int().min(1).max(100_000).optional().describe('frequency with groupBy: values counted at once; the oldest is forgotten first')
}).superRefine((rule, context) => {
  const problem = (field: string, message: string) => { context.addIssue({ code: 'custom', path: [field], message }) }
  if (rule.type === 'any') {
    for (const field of WINDOW_FIELDS) if (rule[field] !== undefined) problem(field, 'applies to a frequency or flatline rule')
    return
  }
  if (rule.threshold === undefined) problem('threshold', `a ${rule.type} rule needs a threshold`)
  if (rule.withinSeconds === undefined) problem('withinSeconds', `a ${rule.type} rule needs withinSeconds`)
  if (rule.type === 'flatline') {
    for (const field of ['groupBy', 'maxGroups', 'cooldownSeconds'] as const) if (rule[field] !== undefined) problem(field, 'does not apply to a flatline rule, which fires once and then resolves')
  }
  if (rule.maxGroups !== undefined && rule.groupBy === undefined) problem('maxGroups', 'applies with groupBy')
})

export type RuleDefinition = z.input<typeof ruleSchema>

/** How a frequency or flatline rule counts. */
export interface RuleWindow {
  type: 'frequency' | 'flatline'
  threshold: number
  withinMs: number
  /** frequency: the value whose matches are counted together. */
  groupOf?: (record: unknown) => string
  maxGroups: number
}

export interface Rule {
  name: string
  severity: Severity
  outputs: string[]
  cooldownSeconds: number
  /** Whether the pattern reads JSON fields, so the entry must be parsed. */
  json: boolean
  /** A JSON rule's top-level fields, one of which an entry must hold to match; undefined: any JSON entry may. */
  needs: readonly string[] | undefined
  matches: Matcher
  describe: (record: unknown, escape?: Escape) => string
  window: RuleWindow | undefined
}

// Enough for the distinct source addresses of a real attack, little enough to bound memory.
const DEFAULT_MAX_GROUPS = 1000

/** Parses a rule's pattern and description once; throws FilterPatternError on a bad pattern. */
export function compileRule (definition: RuleDefinition): Rule {
  const rule = ruleSchema.parse(definition)
  const { matches, json, needs } = compileFilterPattern(rule.pattern)
  const groupBy = rule.groupBy
  return {
    name: rule.name,
    severity: rule.severity,
    outputs: rule.outputs,
    cooldownSeconds: rule.cooldownSeconds ?? 0,
    json,
    needs,
    matches,
    describe: compileTemplate(rule.description),
    window: rule.type === 'any'
      ? undefined
      : {
          type: rule.type,
          threshold: rule.threshold as number,
          withinMs: (rule.withinSeconds as number) * 1000,
          // A missing field makes a group of its own, "?".
          ...(groupBy === undefined ? {} : { groupOf: (record: unknown) => fieldText(selectField(record, groupBy.slice(1))) }),
          maxGroups: rule.maxGroups ?? DEFAULT_MAX_GROUPS
        }
  }
}
