/*
 * Alert descriptions are templates, as StreamAlert's docstrings are read by
 * people: "{{$.userIdentity.arn}} assumed {{$.requestParameters.roleArn}}
 * from {{$.sourceIPAddress}}". Placeholders use the filter patterns'
 * selectors; a missing field renders as "?".
 */

const PLACEHOLDER = /\{\{\s*\$((?:\.[A-Za-z0-9_@:-]+|\[\d+\])*)\s*\}\}/g

export type Escape = (value: string) => string

/** A description with its placeholders resolved against one JSON record, each value escaped for the output. */
export function compileTemplate (template: string): (record: unknown, escape?: Escape) => string {
  if (!template.includes('{{')) return () => template
  return (record, escape = (value) => value) => template.replace(PLACEHOLDER, (_match, path: string) => {
    const value = select(record, path)
    return escape(value === undefined ? '?' : typeof value === 'string' ? value : JSON.stringify(value))
  })
}

function select (record: unknown, path: string): unknown {
  let value = record
  for (const [, key, index] of path.matchAll(/\.([^.[]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== 'object') return undefined
    value = index !== undefined
      ? (Array.isArray(value) ? value[Number(index)] : undefined)
      : Object.hasOwn(value, key as string) ? (value as Record<string, unknown>)[key as string] : undefined
  }
  return value
}
