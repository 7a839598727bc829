import { readFileSync } from 'node:fs'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { CHAOS_DIRECTIVES } from '../fire/chaos.js'
import { pageHeaders } from './security-headers.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the OpenAPI document says about a route beyond its schema. */
    docs?: RouteDocs
  }
}

export interface RouteDocs {
  /**
   * The request body, by media type. Documentation only: the ingest routes'
   * content-type parser reads and checks bodies itself, so these are never
   * compiled into validators.
   */
  body?: Record<string, z.ZodType>
  /** The route is in the chaos, so X-Logfire-Chaos applies to it. */
  chaos?: boolean
  /** Other request headers the route reads, with what they do. */
  headers?: Record<string, string>
}

const CHAOS_HEADER = {
  'x-logfire-chaos': {
    type: 'string',
    description: 'This request\'s fate instead of the seeded roll: a comma-separated list of directives, e.g. "delay=1500, reset-after-append". ' +
      `Directives: ${CHAOS_DIRECTIVES.join(', ')}. \`off\` (or any list) suppresses every random fault; \`wipe\` is the old name of \`burn\`. ` +
      'delay and slow-* are cut to LOGFIRE_MAX_FORCED_DELAY_MS. Honoured while the override setting is on; an unknown or malformed directive is a 400 LOGFIRE_INVALID_CHAOS_HEADER.'
  }
}

// zod schemas of request bodies, in the JSON Schema dialect of OpenAPI 3.1.
const bodyJson = (schema: z.ZodType) => z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' })

type SwaggerDocument = Parameters<typeof jsonSchemaTransform>[0]

/** fastify-type-provider-zod's transform, plus each route's `config.docs`. */
function transform (document: SwaggerDocument) {
  const transformed = jsonSchemaTransform(document) as { schema: Record<string, unknown>, url: string }
  const docs = (document.route as { config?: { docs?: RouteDocs } }).config?.docs
  if (docs === undefined || transformed.schema.hide === true) return transformed
  const schema = { ...transformed.schema }
  if (docs.body !== undefined) {
    schema.body = { content: Object.fromEntries(Object.entries(docs.body).map(([type, body]) => [type, { schema: bodyJson(body) }])) }
  }
  const headers = {
    ...(docs.chaos === true ? CHAOS_HEADER : {}),
    ...Object.fromEntries(Object.entries(docs.headers ?? {}).map(([name, description]) => [name, { type: 'string', description }]))
  }
  if (Object.keys(headers).length > 0) schema.headers = { type: 'object', properties: headers }
  return { schema, url: transformed.url }
}

export interface OpenApiOptions {
  version: string
  /** The stream listeners that are on, e.g. "syslog-tcp on port 5514": they are not HTTP, so the description names them. */
  listeners: readonly string[]
}

/**
 * The OpenAPI document, built from the routes' zod schemas, at
 * /docs/json, and Swagger UI at /docs. Registered before the routes, so it
 * sees all of them.
 */
export const openApi = fp(async function openApi (app: FastifyInstance, options: OpenApiOptions) {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'logfire.io',
        version: options.version,
        description: 'You send us your logs, we set them on fire, so that you will then look at them.\n\n' +
          'Every ingest route is in the chaos: a seeded share of requests answers 503 "lp0 on fire", ' +
          'some burn the whole chain (410), and lines about the EU, the UK or Europe are refused (451). ' +
          'X-Logfire-Seed and X-Logfire-Request on every response in the chaos replay a run exactly.\n\n' +
          (options.listeners.length === 0
            ? 'Stream listeners: none on (LOGFIRE_SYSLOG_TCP_PORT, LOGFIRE_SYSLOG_UDP_PORT and LOGFIRE_SYSLOG_TLS_PORT turn them on; GET /streams counts their connections).'
            : `Stream listeners on: ${options.listeners.join(', ')}. GET /streams counts their connections.`)
      },
      tags: [
        { name: 'chain', description: 'The hash chain: read it, verify it, watch it' },
        { name: 'ingest', description: 'POST /logs and the routes real shippers speak' },
        { name: 'stage', description: "The speaker's controls and the fire page" },
        { name: 'service', description: 'Health and description' },
        { name: 'fires', description: 'Open mode (LOGFIRE_FIRES=open): a fire of one\'s own, selected by its tokens' }
      ],
      components: {
        securitySchemes: {
          ingestBearer: { type: 'http', scheme: 'bearer', description: 'LOGFIRE_INGEST_TOKEN, when it is set; or a fire\'s ingest token (lf_ing_...), which selects that fire' },
          splunkToken: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Splunk <LOGFIRE_INGEST_TOKEN>`, when it is set; or `Splunk <lf_ing_...>`, a fire\'s' },
          datadogApiKey: { type: 'apiKey', in: 'header', name: 'DD-API-KEY', description: 'LOGFIRE_INGEST_TOKEN, when it is set; or a fire\'s ingest token' },
          lokiBasic: { type: 'http', scheme: 'basic', description: 'Any user name, LOGFIRE_INGEST_TOKEN (or a fire\'s ingest token) as the password' },
          readBearer: { type: 'http', scheme: 'bearer', description: 'LOGFIRE_READ_TOKEN, when it is set; or a fire\'s view token (lf_view_...)' },
          metricsBearer: { type: 'http', scheme: 'bearer', description: 'LOGFIRE_METRICS_TOKEN, when it is set' },
          adminBearer: { type: 'http', scheme: 'bearer', description: 'LOGFIRE_ADMIN_TOKEN; or, on that fire\'s routes, a fire\'s admin token (lf_adm_...)' }
        }
      }
    },
    transform,
    transformObject: jsonSchemaTransformObject
  })
  // The docs page in a context of its own: helmet's headers for a page, with Swagger UI's own CSP.
  await app.register(async function docsPage (docs) {
    await docs.register(pageHeaders, { contentSecurityPolicy: false })
    await docs.register(swaggerUi, {
      routePrefix: '/docs',
      logo: { type: 'image/svg+xml', content: readFileSync(new URL('../../public/favicon.svg', import.meta.url)) },
      theme: { title: 'logfire.io API' },
      // Swagger UI's own policy, with its script hashes, but no upgrade to
      // HTTPS (logfire is mostly served over plain HTTP) and inline styles
      // allowed, since Swagger UI injects some at run time.
      staticCSP: true,
      transformStaticCSP: (header) => header
        .replace(/\s*upgrade-insecure-requests;?/, '')
        .replace(/style-src [^;]*/, "style-src 'self' 'unsafe-inline'")
    })
  })
}, { name: 'logfire-openapi' })
