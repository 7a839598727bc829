// docs/reference.md, generated from the code: the routes from the OpenAPI
// document, the events from FEED_EVENTS, the status codes from REFUSALS and
// the configuration from the zod schema and VARIABLE_DOCS. `npm run docs`
// writes it; test/docs/reference.test.ts fails when the committed file
// differs from what this renders.
import { z } from 'zod'
import { buildApp } from '../src/app.js'
import { ENVIRONMENT, loadConfig, type Variable } from '../src/config.js'
import { VARIABLE_DOCS } from '../src/config-docs.js'
import { REFUSALS } from '../src/errors.js'
import { FEED_EVENTS } from '../src/stream/feed.js'

interface Operation { summary?: string, tags?: string[], security?: Array<Record<string, unknown>> }
interface OpenApi { paths: Record<string, Record<string, Operation>>, components: { securitySchemes: Record<string, { description?: string }> } }

// The tags in the order a reader meets them, each with its heading.
const SECTIONS: Array<[tag: string, heading: string]> = [
  ['ingest', 'Ingest'],
  ['elasticsearch', 'What Elasticsearch clients call around their bulks'],
  ['chain', 'The chain'],
  ['scorecard', 'The scorecard'],
  ['stage', 'The stage and the admin'],
  ['service', 'The service']
]

const cell = (text: string): string => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

/** Which token a route takes: the variable its security schemes name, "when set" if it may go without. */
function access (operation: Operation, schemes: OpenApi['components']['securitySchemes']): string {
  const security = operation.security ?? []
  if (security.length === 0) return 'open'
  const variables = new Set<string>()
  for (const requirement of security) {
    for (const scheme of Object.keys(requirement)) {
      const named = /LOGFIRE_[A-Z_]+_TOKEN/.exec(schemes[scheme]?.description ?? '')?.[0]
      if (named !== undefined) variables.add(named)
    }
  }
  const optional = security.some((requirement) => Object.keys(requirement).length === 0)
  const names = [...variables].map((variable) => `\`${variable}\``).join(', ')
  return optional ? `${names}, when set` : names
}

async function routes (): Promise<string[]> {
  const app = await buildApp({ config: loadConfig({ LOGFIRE_ADMIN_TOKEN: 'reference' }) })
  try {
    const document = (await app.inject({ url: '/docs/json' })).json() as OpenApi
    const lines: string[] = []
    for (const [tag, heading] of SECTIONS) {
      lines.push(`### ${heading}`, '', '| Route | What it does | Token |', '| --- | --- | --- |')
      for (const [path, methods] of Object.entries(document.paths)) {
        for (const [method, operation] of Object.entries(methods)) {
          if (operation.tags?.[0] !== tag) continue
          lines.push(`| \`${method.toUpperCase()} ${path}\` | ${cell(operation.summary ?? '')} | ${access(operation, document.components.securitySchemes)} |`)
        }
      }
      lines.push('')
    }
    return lines
  } finally {
    await app.close()
  }
}

function events (): string[] {
  return [
    '| Event | What happened |',
    '| --- | --- |',
    ...Object.entries(FEED_EVENTS).map(([name, what]) => `| \`${name}\` | ${cell(what)} |`),
    ''
  ]
}

function statusCodes (): string[] {
  const byStatus = Object.entries(REFUSALS).sort(([, a], [, b]) => a.status - b.status)
  return [
    '| Status | `code` | When |',
    '| --- | --- | --- |',
    ...byStatus.map(([code, { status, when }]) => `| ${code === 'LOGFIRE_INJECTED_STATUS' ? '4xx, 5xx' : status} | \`${code}\` | ${cell(when)} |`),
    ''
  ]
}

/** What a variable accepts, from its schema as JSON Schema. */
function accepts (schema: z.ZodType): string {
  const json = z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' }) as { type?: string, minimum?: number, maximum?: number, enum?: unknown[], maxLength?: number }
  const range = (kind: string) => `${kind} from ${json.minimum?.toLocaleString('en')} to ${json.maximum?.toLocaleString('en')}`
  if (json.enum !== undefined) return json.enum.map((value) => `\`${String(value)}\``).join(', ')
  if (json.type === 'integer') return range('integer')
  if (json.type === 'number') return json.minimum === 0 && json.maximum === 1 ? 'probability, 0 to 1' : range('number')
  if (json.type === 'boolean') return '`true` or `false`'
  if (json.maxLength !== undefined) return `text, at most ${json.maxLength.toLocaleString('en')} characters`
  return 'text'
}

function configuration (): string[] {
  const lines = ['| Variable | Default | Accepts | Meaning |', '| --- | --- | --- | --- |']
  for (const [variable, schema] of Object.entries(ENVIRONMENT.shape) as Array<[Variable, z.ZodType]>) {
    const docs = VARIABLE_DOCS[variable]
    const fallback = schema.safeParse(undefined).data
    const value = fallback === undefined ? docs.default : Array.isArray(fallback) ? fallback.join(',') : String(fallback)
    // A value in code type, a word (derived, random...) as it is.
    const shown = value === undefined ? 'unset' : /^[a-z ]+$/.test(value) && fallback === undefined ? value : `\`${value}\``
    lines.push(`| \`${variable}\` | ${shown} | ${accepts(schema)} | ${cell(docs.meaning)} |`)
  }
  return [...lines, '']
}

export async function renderReference (): Promise<string> {
  return [
    '# Reference',
    '',
    '<!-- Generated by `npm run docs` from the code; edit the code, not this file. test/docs/reference.test.ts fails when they differ. -->',
    '',
    'Every route, event, status code and variable, as the code defines them.',
    'For what they are for, start from the [guides](README.md).',
    '',
    '- [Routes](#routes)',
    '- [Events on the stream](#events-on-the-stream)',
    '- [Status codes](#status-codes)',
    '- [Configuration](#configuration)',
    '',
    '## Routes',
    '',
    'From the OpenAPI document, which a running logfire serves at `/docs` (Swagger UI) and `/docs/json`.',
    'Admin routes exist when `LOGFIRE_ADMIN_TOKEN` is set, and answer `404 LOGFIRE_ADMIN_DISABLED` otherwise.',
    '',
    ...await routes(),
    '## Events on the stream',
    '',
    '`GET /logs/stream` sends these as Server-Sent Events; [chain.md](chain.md#watching-it-live) says how a viewer resumes.',
    '',
    ...events(),
    '## Status codes',
    '',
    'Every error a client sees has one shape, with a stable `code`, except where a protocol has its own (HEC, Elasticsearch, OTLP, RELP, Forward):',
    '`{"statusCode": 451, "code": "LOGFIRE_GDPR", "error": "Unavailable For Legal Reasons", "message": "...", ...}`.',
    'A success is always exactly `200` on `POST /logs`: several shippers count nothing else as success.',
    '',
    ...statusCodes(),
    '## Configuration',
    '',
    'Read once from the environment when logfire starts, and validated: a bad value stops the process with one line naming the variable, e.g.',
    '`logfire: invalid configuration: LOGFIRE_FIRE_RATE must be a number from 0 to 1, got "2"`. An empty variable counts as unset.',
    '',
    ...configuration()
  ].join('\n')
}
