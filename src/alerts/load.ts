import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { z } from 'zod'
import { FilterPatternError } from './filter-pattern.js'
import { outputSchema, resolveOutput, type OutputConfig } from './outputs/config.js'
import { compileRule, ruleSchema, type Rule, type RuleDefinition } from './rule.js'

export interface Alerting {
  rules: Rule[]
  /** By name; `log` is always there and needs no entry. */
  outputs: Record<string, OutputConfig>
}

export class RulesFileError extends Error {
  override name = 'RulesFileError'
}

/**
 * The rules and outputs of a rules file (YAML, or JSON, which YAML reads too):
 *
 *   outputs:
 *     security-slack: { type: slack, url: "${SLACK_WEBHOOK_URL}" }
 *   rules:
 *     - name: root-account-usage
 *       description: Root used from {{$.sourceIPAddress}}
 *       pattern: '{ $.userIdentity.type = "Root" }'
 *       severity: critical
 *       outputs: [log, security-slack]
 *
 * Secrets are ${VARIABLE}s, filled from `env`. Any mistake stops here,
 * naming the rule or output, the line and the column.
 */
export function loadRules (text: string, file: string, env: Record<string, string | undefined> = {}): Alerting {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  const where = (offset: number, extraColumns = 0) => {
    const { line, col } = lines.linePos(offset)
    return `${file}:${line}:${col + extraColumns}`
  }
  const syntax = document.errors[0]
  if (syntax !== undefined) throw new RulesFileError(`${where(syntax.pos[0])}: ${syntax.message.split('\n')[0]}`)

  const list = isMap(document.contents) ? document.contents.get('rules', true) : undefined
  if (!isSeq(list)) throw new RulesFileError(`${file}: expected a top-level "rules:" list`)

  const outputs: Record<string, OutputConfig> = {}
  const outputMap = isMap(document.contents) ? document.contents.get('outputs', true) : undefined
  if (outputMap !== undefined && !isMap(outputMap)) throw new RulesFileError(`${where((outputMap as Node).range?.[0] ?? 0)}: outputs: expected a map of names to outputs`)
  for (const pair of isMap(outputMap) ? outputMap.items : []) {
    const name = String((pair.key as { value?: unknown }).value ?? pair.key)
    const at = (pair.value as Node | null)?.range?.[0] ?? (pair.key as Node).range?.[0] ?? 0
    if (name === 'log') throw new RulesFileError(`${where(at)}: output "log" is built in`)
    const parsed = outputSchema.safeParse((pair.value as { toJSON: () => unknown } | null)?.toJSON())
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as z.core.$ZodIssue
      throw new RulesFileError(`${where(at)}: output "${name}": ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`)
    }
    try {
      outputs[name] = resolveOutput(parsed.data, env)
    } catch (error) {
      throw new RulesFileError(`${where(at)}: output "${name}": ${(error as Error).message}`)
    }
  }

  const names = new Set<string>()
  const rules = list.items.map((item, i) => {
    const node = item as Node
    const start = node.range?.[0] ?? 0
    const definition = (node as { toJSON: () => unknown }).toJSON() as RuleDefinition
    const label = typeof definition?.name === 'string' ? `rule "${definition.name}"` : `rule ${i + 1}`
    const fieldAt = (field: string): number => {
      const value = isMap(node) ? node.get(field, true) : undefined
      return (value as Node | undefined)?.range?.[0] ?? start
    }

    const parsed = ruleSchema.safeParse(definition)
    if (!parsed.success) {
      const issue = parsed.error.issues[0] as z.core.$ZodIssue
      const field = String(issue.path[0] ?? '')
      throw new RulesFileError(`${where(field === '' ? start : fieldAt(field))}: ${label}: ${field === '' ? '' : `${field}: `}${issue.message}`)
    }
    const rule = parsed.data
    if (names.has(rule.name)) throw new RulesFileError(`${where(fieldAt('name'))}: ${label}: a rule of that name comes earlier`)
    names.add(rule.name)
    const unknown = rule.outputs.find((output) => output !== 'log' && outputs[output] === undefined)
    if (unknown !== undefined) throw new RulesFileError(`${where(fieldAt('outputs'))}: ${label}: unknown output "${unknown}" (defined: ${['log', ...Object.keys(outputs)].join(', ')})`)

    try {
      return compileRule(rule)
    } catch (error) {
      if (!(error instanceof FilterPatternError)) throw error
      // Point into the pattern itself when it sits on one line.
      const scalar = isMap(node) ? node.get('pattern', true) : undefined
      const quoted = isScalar(scalar) && (scalar.type === 'QUOTE_DOUBLE' || scalar.type === 'QUOTE_SINGLE') ? 1 : 0
      const singleLine = !rule.pattern.includes('\n')
      throw new RulesFileError(`${where(fieldAt('pattern'), singleLine ? quoted + error.column - 1 : 0)}: ${label}: pattern: ${error.message}`)
    }
  })
  return { rules, outputs }
}
