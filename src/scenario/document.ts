import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml'
import { z } from 'zod'
import { parseChaosHeader } from '../fire/chaos.js'
import { CHAOS_PRESETS } from '../fire/faults.js'
import { parseStreamChaos, STREAM_PROTOCOLS } from '../fire/stream-faults.js'

/*
 * A scenario: steps that decide the chaos in order, for the next N matching
 * requests or for S seconds, or until stepped by hand. The same document in
 * every source (LOGFIRE_SCENARIO's file, a built-in name, PUT /admin/scenario):
 *
 *   {"name"?, "loop"?, "steps": [{"requests": 3, "chaos": "fire"}, ...]}
 */

const rate = z.number().min(0).max(1)

/** The settings a step may change for its duration. */
export const stepSettings = z.strictObject({
  fireRate: rate,
  burnRate: rate,
  wipeRate: rate,
  gdpr: z.boolean(),
  itemRejectRate: rate,
  delayRate: rate,
  delayMs: z.number().int().min(0).max(3_600_000),
  delayDistribution: z.enum(['uniform', 'lognormal']),
  delaySigma: z.number().min(0).max(5),
  slowReadRate: rate,
  slowReadBytesPerSecond: z.number().int().min(1).max(2 ** 40),
  slowResponseMs: z.number().int().min(0).max(3_600_000),
  hangMs: z.number().int().min(1).max(3_600_000),
  slowResponseRate: rate,
  hangRate: rate,
  resetRate: rate,
  resetAfterAppendRate: rate,
  closeRate: rate,
  garbageRate: rate,
  statusRate: rate,
  statusCodes: z.array(z.number().int().min(400).max(599)).min(1).max(32),
  streamResetRate: rate,
  streamResetAfterAppendRate: rate,
  streamCloseRate: rate,
  streamStallRate: rate,
  streamStallResetRate: rate,
  streamStallMs: z.number().int().min(0).max(3_600_000),
  streamSlowReadRate: rate,
  streamSlowReadBytesPerSecond: z.number().int().min(1).max(2 ** 40),
  streamSlowReadMs: z.number().int().min(0).max(3_600_000),
  streamHangRate: rate,
  streamNakRate: rate,
  streamAckLossRate: rate,
  streamAckWrongRate: rate
}).partial()

export type StepSettings = z.infer<typeof stepSettings>

const match = z.strictObject({
  protocol: z.enum(STREAM_PROTOCOLS).optional().describe('A "messages" step: only stream messages of this listener'),
  route: z.string().min(1).max(200).optional().describe('A path, e.g. /logs, or a prefix ending in *, e.g. /services/collector*'),
  method: z.string().min(1).max(10).optional(),
  headers: z.record(z.string().min(1).max(100), z.string().max(200)).optional().describe('Each header must contain this text, any case, e.g. {"user-agent": "fluent-bit"}')
})

export const stepSchema = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000_000).optional(),
  messages: z.number().int().min(1).max(1_000_000_000).optional().describe('The next N stream messages (syslog over TCP, UDP, TLS)'),
  seconds: z.number().positive().max(86_400).optional(),
  match: match.optional(),
  chaos: z.string().max(500).optional().describe('X-Logfire-Chaos directives for every request the step takes'),
  set: stepSettings.optional(),
  burn: z.boolean().optional(),
  pause: z.boolean().optional()
}).refine((step) => [step.requests !== undefined, step.messages !== undefined, step.seconds !== undefined, step.pause === true].filter(Boolean).length === 1, {
  error: 'a step takes exactly one of "requests": N, "messages": N, "seconds": S or "pause": true'
}).refine((step) => step.match === undefined || step.requests !== undefined || step.messages !== undefined, { error: '"match" applies to a "requests" or "messages" step' })
  .refine((step) => step.match === undefined || (step.messages === undefined
    ? step.match.protocol === undefined
    : step.match.route === undefined && step.match.method === undefined && step.match.headers === undefined), {
    error: 'a "requests" step matches route, method and headers; a "messages" step matches protocol'
  })

export type Step = z.infer<typeof stepSchema>

export const scenarioSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  loop: z.boolean().optional(),
  steps: z.array(stepSchema).min(1).max(1000)
})

export type Scenario = z.infer<typeof scenarioSchema>

/** The scenarios every logfire knows by name (docs/chaos.md, "Scenarios"). */
export const BUILT_IN_SCENARIOS: Record<string, Scenario> = {
  // The talk's beats, in its order: two lines land, the chain burns, a line
  // about Europe meets GDPR (as it always does), the printer catches fire.
  talk: {
    name: 'talk',
    steps: [
      { requests: 2, chaos: 'off' },
      { requests: 1, chaos: 'burn' },
      { requests: 1, chaos: 'off' },
      { requests: 1, chaos: 'fire' }
    ]
  },
  flaky: { name: 'flaky', steps: [{ requests: 3, chaos: 'fire' }] },
  outage: { name: 'outage', steps: [{ seconds: 30, chaos: 'fire' }] },
  brownout: {
    name: 'brownout',
    steps: [200, 500, 1000, 2000, 1000, 500, 200].map((ms) => ({ seconds: 10, chaos: `delay=${ms}` }))
  },
  'hostile-network': { name: 'hostile-network', steps: [{ pause: true, set: { ...CHAOS_PRESETS['hostile-network'] } }] }
}

/** The built-in scenario of that name; a name Object has (constructor...) is none. */
export function builtInScenario (name: string): Scenario | undefined {
  return Object.hasOwn(BUILT_IN_SCENARIOS, name) ? BUILT_IN_SCENARIOS[name] : undefined
}

/** A built-in's name is lowercase letters, digits and dashes; anything else is a path. */
export const isBuiltInName = (value: string): boolean => /^[a-z][a-z0-9-]*$/.test(value)

export class ScenarioError extends Error {
  override name = 'ScenarioError'
}

/** A scenario document as JSON or YAML; a mistake names the file, the line and the step. */
export function parseScenario (text: string, file: string): Scenario {
  const lines = new LineCounter()
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false })
  const where = (offset: number) => {
    const { line, col } = lines.linePos(offset)
    return `${file}:${line}:${col}`
  }
  const syntax = document.errors[0]
  if (syntax !== undefined) throw new ScenarioError(`${where(syntax.pos[0])}: ${syntax.message.split('\n')[0]}`)
  const parsed = scenarioSchema.safeParse(document.toJS())
  if (parsed.success) {
    const problem = chaosProblem(parsed.data)
    if (problem !== undefined) {
      const steps = isMap(document.contents) ? document.contents.get('steps', true) : undefined
      const at = isSeq(steps) ? (steps.items[problem.step] as Node | undefined)?.range?.[0] ?? 0 : 0
      throw new ScenarioError(`${where(at)}: step ${problem.step + 1}: chaos: ${problem.message}`)
    }
    return parsed.data
  }
  const issue = parsed.error.issues[0] as z.core.$ZodIssue
  const [first, index] = issue.path
  const steps = isMap(document.contents) ? document.contents.get('steps', true) : undefined
  const stepNode = first === 'steps' && typeof index === 'number' && isSeq(steps) ? steps.items[index] as Node | undefined : undefined
  const at = stepNode?.range?.[0] ?? 0
  const path = issue.path.slice(first === 'steps' && typeof index === 'number' ? 2 : 0).join('.')
  const step = stepNode === undefined ? '' : ` step ${(index as number) + 1}:`
  throw new ScenarioError(`${where(at)}:${step} ${path === '' ? '' : `${path}: `}${issue.message}`)
}

/**
 * The first step whose "chaos" its requests or messages cannot meet: a
 * "requests" step takes X-Logfire-Chaos directives, a "messages" step the
 * stream's, and a step of time either (each side meets what it knows).
 */
export function chaosProblem (scenario: Scenario): { step: number, message: string } | undefined {
  const limits = { maxForcedDelayMs: 1, hangMs: 1 }
  for (const [step, { chaos, requests, messages }] of scenario.steps.entries()) {
    if (chaos === undefined) continue
    const roll = parseChaosHeader(chaos, limits)
    const streamRoll = parseStreamChaos(chaos, limits)
    const problem = messages !== undefined ? streamRoll : requests !== undefined || 'problem' in streamRoll ? roll : undefined
    if (problem !== undefined && 'problem' in problem) return { step, message: `${problem.directive}: ${problem.problem}` }
  }
  return undefined
}

/** LOGFIRE_SCENARIO: a built-in's name, or a file read with `read`. */
export function loadScenario (value: string, read: (file: string) => string): Scenario {
  if (isBuiltInName(value)) {
    const builtIn = builtInScenario(value)
    if (builtIn === undefined) throw new ScenarioError(`LOGFIRE_SCENARIO: no built-in scenario "${value}": the built-ins are ${Object.keys(BUILT_IN_SCENARIOS).join(', ')}; a file needs a path, e.g. ./${value}.yaml`)
    return builtIn
  }
  let text: string
  try {
    text = read(value)
  } catch (error) {
    throw new ScenarioError(`LOGFIRE_SCENARIO: cannot read ${value}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
  return parseScenario(text, value)
}
