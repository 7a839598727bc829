import { z } from 'zod'
import { MAX_PULSE_SECONDS } from '../../balloon/balloon.js'
import type { DriverConfig } from '../../balloon/drivers.js'
import { isLocalHost } from '../../http/hosts.js'
import { BUILT_IN_SCENARIOS, builtInScenario, chaosProblem, scenarioSchema, stepSettings, type Scenario } from '../../scenario/document.js'

// Secrets come from the environment, never from the rules file itself.
const fromEnvironment = z.string().regex(/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/, { error: 'must be a ${VARIABLE}: secrets come from the environment, not the file' })
const httpUrl = z.url({ protocol: /^https?$/, error: 'an http or https URL' })

/** The outputs section of a rules file: names, and how to reach each. */
export const outputSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('slack'), url: fromEnvironment }),
  z.strictObject({ type: z.literal('webhook'), url: z.string(), secret: fromEnvironment }),
  z.strictObject({ type: z.literal('pagerduty'), routingKey: fromEnvironment, url: httpUrl.default('https://events.pagerduty.com/v2/enqueue') }),
  z.strictObject({
    type: z.literal('balloon'),
    driver: z.enum(['kasa', 'shelly-gen1', 'shelly-gen2', 'tasmota']),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535).optional(),
    seconds: z.number().positive().max(MAX_PULSE_SECONDS).default(10),
    cooldownSeconds: z.number().min(0).max(3600).default(30),
    // A compressor is a real device: nothing is switched until this is true.
    armed: z.boolean().default(false),
    allowPublicHost: z.boolean().default(false),
    user: fromEnvironment.optional(),
    password: fromEnvironment.optional()
  }),
  // logfire acting on itself: the talk's "security alerts trigger chaos monkeys".
  z.strictObject({
    type: z.literal('chaos'),
    scenario: z.union([z.string().min(1).max(100), scenarioSchema]).optional().describe('A built-in scenario\'s name, or a scenario document'),
    burn: z.literal(true).optional(),
    set: stepSettings.optional().describe('Settings to change for `seconds`, then restore'),
    seconds: z.number().positive().max(86_400).optional(),
    cooldownSeconds: z.number().min(0).max(86_400).default(60)
  }).refine((output) => [output.scenario !== undefined, output.burn === true, output.set !== undefined].filter(Boolean).length === 1, {
    error: 'a chaos output does exactly one of "scenario", "burn: true" or "set"'
  }).refine((output) => (output.set !== undefined) === (output.seconds !== undefined), {
    error: '"set" needs "seconds", how long the settings last, and "seconds" applies only to "set"'
  })
])

export type OutputDefinition = z.output<typeof outputSchema>

export type BalloonConfig = { type: 'balloon', seconds: number, cooldownSeconds: number, armed: boolean } & DriverConfig

/** What a chaos output does when its rule fires: run a scenario (a "set" is one of S seconds), or burn the chain. */
export type ChaosConfig = { type: 'chaos', cooldownSeconds: number } & ({ scenario: Scenario } | { burn: true })

export type OutputConfig =
  | BalloonConfig
  | ChaosConfig
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
  if (definition.type === 'balloon') {
    if (!definition.allowPublicHost && !isLocalHost(definition.host)) {
      throw new Error(`host: ${definition.host} is not a loopback or private-network address; set allowPublicHost: true if you mean it`)
    }
    const { type, driver, host, port, seconds, cooldownSeconds, armed } = definition
    const credentials = definition.user === undefined ? {} : { user: fill('user', definition.user), password: fill('password', definition.password ?? '') }
    return { type, host, seconds, cooldownSeconds, armed, ...(port === undefined ? {} : { port }), ...(driver === 'tasmota' ? { driver, ...credentials } : { driver }) }
  }
  if (definition.type === 'chaos') {
    const { cooldownSeconds } = definition
    if (definition.burn === true) return { type: 'chaos', cooldownSeconds, burn: true }
    if (definition.set !== undefined) return { type: 'chaos', cooldownSeconds, scenario: { steps: [{ seconds: definition.seconds as number, set: definition.set }] } }
    const scenario = definition.scenario as string | Scenario
    if (typeof scenario !== 'string') {
      const problem = chaosProblem(scenario)
      if (problem !== undefined) throw new Error(`scenario: step ${problem.step + 1}: chaos: ${problem.message}`)
      return { type: 'chaos', cooldownSeconds, scenario }
    }
    const builtIn = builtInScenario(scenario)
    if (builtIn === undefined) throw new Error(`scenario: no built-in scenario is called "${scenario}" (there are ${Object.keys(BUILT_IN_SCENARIOS).join(', ')})`)
    return { type: 'chaos', cooldownSeconds, scenario: builtIn }
  }
  const url = fill('url', definition.url)
  if (!httpUrl.safeParse(url).success) throw new Error('url: must be an http or https URL')
  switch (definition.type) {
    case 'slack': return { type: 'slack', url }
    case 'webhook': return { type: 'webhook', url, secret: fill('secret', definition.secret) }
    case 'pagerduty': return { type: 'pagerduty', url, routingKey: fill('routingKey', definition.routingKey) }
  }
}
