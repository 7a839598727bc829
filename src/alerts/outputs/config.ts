import { z } from 'zod'

// Secrets come from the environment, never from the rules file itself.
const fromEnvironment = z.string().regex(/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/, { error: 'must be a ${VARIABLE}: secrets come from the environment, not the file' })
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http or https URL' })

/** The outputs section of a rules file: names, and how to reach each. */
export const outputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('slack'), url: fromEnvironment }),
  z.strictObject({ type: z.literal('webhook'), url: z.string(), secret: fromEnvironment }),
  z.strictObject({ type: z.literal('pagerduty'), routingKey: fromEnvironment, url: httpUrl.default('https://events.pagerduty.com/v2/enqueue') })
])

export type OutputDefinition = z.output<typeof outputSchema>

export type OutputConfig =
  | { type: 'slack', url: string }
  | { type: 'webhook', url: string, secret: string }
  | { type: 'pagerduty', url: string, routingKey: string }

/** Fills ${VARIABLE}s from the environment; a missing one is an error naming it. */
export function resolveOutput (definition: OutputDefinition, env: Record<string, string | undefined>): OutputConfig {
  const fill = (field: string, value: string): string => value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string) => {
    const found = env[name]
    if (found === undefined || found === '') throw new Error(`${field}: the environment variable ${name} is not set`)
    return found
  })
  const url = fill('url', definition.url)
  if (!httpUrl.safeParse(url).success) throw new Error('url: must be an http or https URL')
  switch (definition.type) {
    case 'slack': return { type: 'slack', url }
    case 'webhook': return { type: 'webhook', url, secret: fill('secret', definition.secret) }
    case 'pagerduty': return { type: 'pagerduty', url, routingKey: fill('routingKey', definition.routingKey) }
  }
}
