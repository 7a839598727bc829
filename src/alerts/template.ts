/*
 * Alert descriptions are templates, as StreamAlert's docstrings are read by
 * people: "{{$.userIdentity.arn}} assumed {{$.requestParameters.roleArn}}
 * from {{$.sourceIPAddress}}". Placeholders use the filter patterns'
 * selectors; a missing field renders as "?".
 */

const PATH = String.raw`((?:\.[A-Za-z0-9_@:-]+|\[\d+\])*)`
const PLACEHOLDER = new RegExp(String.raw`\{\{\s*\$${PATH}\s*\}\}`, 'g')
/** A field named as a placeholder names it, without the braces: $.a.b[0]. */
export const FIELD_SELECTOR = new RegExp(String.raw`^\$${PATH}$`)

export type Escape = (value: string) => string

/** A description with its placeholders resolved against one JSON record, each value escaped for the output. */
export function compileTemplate (template: string): (record: unknown, escape?: Escape) => string {
  if (!template.includes('{{')) return () => template
  return (record, escape = (value) => value) => template.replace(PLACEHOLDER, (_match, path: string) => {
    return escape(fieldText(selectField(record, path)))
  })
}

/** The value at `path` (.a.b[0], without the $), or undefined. */
export function selectField (record: unknown, path: string): unknown {
  let value = record
  for (const [, key, index] of path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== 'object') return undefined
    value = index !== undefined
      ? (Array.isArray(value) ? value[Number(index)] : undefined)
      : Object.hasOwn(value, key as string) ? (value as Record<string, unknown>)[key as string] : undefined
  }
  return value
}

/** A field's value as text: a string as it is, anything else as JSON, a missing field as "?". */
export const fieldText = (value: unknown): string => value === undefined ? '?' : typeof value === 'string' ? value : JSON.stringify(value)
