import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import { z } from 'zod'
import { documented } from '../../http/responses.js'
import { elasticProduct } from './routes.js'
import { esErrorBody, rootDocument } from './replies.js'

/** Templates and policies a client PUTs, remembered so its HEAD and GET find them; bounded, oldest forgotten. */
export class Remembered {
  readonly #documents = new Map<string, unknown>()
  constructor (private readonly max = 256) {}

  get (key: string): unknown { return this.#documents.get(key) }

  put (key: string, document: unknown): void {
    this.#documents.delete(key)
    this.#documents.set(key, document)
    if (this.#documents.size > this.max) this.#documents.delete(this.#documents.keys().next().value as string)
  }
}

const KINDS = {
  _index_template: (name: string, document: unknown) => ({ index_templates: [{ name, index_template: document }] }),
  _template: (name: string, document: unknown) => ({ [name]: document }),
  '_ilm/policy': (name: string, document: unknown) => ({
    [name]: { version: 1, modified_date: '2026-01-01T00:00:00.000Z', policy: (document as { policy?: unknown }).policy ?? document }
  })
} as const

const acknowledged = z.object({ acknowledged: z.boolean() })
const anything = z.looseObject({})
const SHARDS = { _shards: { total: 1, successful: 1, failed: 0 } }
const MAX_DOCUMENT_BYTES = 64 * 1024

/**
 * The calls Elasticsearch clients make before and around `_bulk`: the
 * version, the licence, the health, templates, ILM policies and refreshes.
 * None of them is on fire: a client must get to its first bulk to meet the
 * chaos. Served under /es: logfire's own page is the root.
 */
export const esClusterRoutes: FastifyPluginAsync<{ seed: string, clock: () => number }> = async (app, options) => {
  elasticProduct(app)
  // The official client labels JSON application/vnd.elasticsearch+json.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: MAX_DOCUMENT_BYTES }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string))
    } catch {
      done(null, {})
    }
  })
  const remembered = new Remembered()
  const tags = ['elasticsearch']
  const notFound = (reply: FastifyReply, what: string) => reply.code(404).type('application/json').send(esErrorBody({
    statusCode: 404, code: 'LOGFIRE_NOT_FOUND', error: 'Not Found', message: `${what} not found`
  }))

  app.get('/', { schema: { tags, summary: 'Elasticsearch: version', description: 'What Logstash, Filebeat, Vector and rsyslog read first: version.number ' + rootDocument('').version.number, response: { 200: documented(anything, 'The cluster, as Elasticsearch describes itself') } } },
    async (_request, reply) => reply.type('application/json').send(JSON.stringify(rootDocument(options.seed))))
  // Logstash checks an alias before it creates it: nothing is ever there, and creating it is acknowledged.
  app.head('/:index', async (_request, reply) => reply.code(404).send())
  app.put('/:index', { schema: { tags, summary: 'Elasticsearch: create an index', description: 'Acknowledged; nothing is kept', response: { 200: documented(anything, '{"acknowledged":true}') } } }, async (request, reply) =>
    reply.type('application/json').send({ acknowledged: true, shards_acknowledged: true, index: (request.params as { index: string }).index }))
  app.get('/_license', { schema: { tags, summary: 'Elasticsearch: licence', description: 'Active: Logstash refuses a cluster without one', response: { 200: documented(anything, '{"license":{"status":"active"}}') } } },
    async () => ({ license: { status: 'active', uid: 'logfire', type: 'basic', issue_date: '2026-01-01T00:00:00.000Z', issue_date_in_millis: 1767225600000, max_nodes: 1000, issued_to: 'logfire', issuer: 'elasticsearch', start_date_in_millis: -1 } }))
  app.get('/_cluster/health', { schema: { tags, summary: 'Elasticsearch: health', description: "Vector's health check", response: { 200: documented(anything, 'green') } } },
    async () => ({ cluster_name: 'logfire', status: 'green', timed_out: false, number_of_nodes: 1, number_of_data_nodes: 1, active_primary_shards: 1, active_shards: 1, relocating_shards: 0, initializing_shards: 0, unassigned_shards: 0, active_shards_percent_as_number: 100 }))
  await app.register(catHealth, { clock: options.clock })
  for (const url of ['/_refresh', '/:index/_refresh']) {
    app.route({ method: ['GET', 'POST'], url, schema: { tags, summary: 'Elasticsearch: refresh', description: 'pino-elasticsearch calls it when its stream ends' } as object, handler: async () => SHARDS })
  }
  for (const [kind, shape] of Object.entries(KINDS)) {
    const url = `/${kind}/:name`
    const key = (params: unknown) => `${kind}/${(params as { name: string }).name}`
    app.head(url, async (request, reply) => reply.code(remembered.get(key(request.params)) === undefined ? 404 : 200).send())
    app.get(url, { schema: { tags, summary: `Elasticsearch: ${kind} as PUT` } }, async (request, reply) => {
      const document = remembered.get(key(request.params))
      if (document === undefined) return notFound(reply, key(request.params))
      return shape((request.params as { name: string }).name, document)
    })
    app.put(url, { bodyLimit: MAX_DOCUMENT_BYTES, schema: { tags, summary: `Elasticsearch: remember a ${kind}`, response: { 200: documented(acknowledged, '{"acknowledged":true}') } } }, async (request) => {
      remembered.put(key(request.params), request.body ?? {})
      return { acknowledged: true }
    })
  }
}

/**
 * GET /_cat/health, which rsyslog calls on the server it was given: under
 * /es, and at the root for an rsyslog configured with no path.
 */
export const catHealth: FastifyPluginAsync<{ clock: () => number }> = async (app, options) => {
  elasticProduct(app)
  app.get('/_cat/health', { schema: { tags: ['elasticsearch'], summary: 'Elasticsearch: health, as a line', description: "rsyslog's check before it posts; also at the root, for an rsyslog configured without a path" } },
    async (request, reply) => {
      const now = Math.floor(options.clock() / 1000)
      const health = { epoch: String(now), timestamp: new Date(now * 1000).toISOString().slice(11, 19), cluster: 'logfire', status: 'green', 'node.total': '1', 'node.data': '1', shards: '1', pri: '1', relo: '0', init: '0', unassign: '0', active_shards_percent: '100.0%' }
      if ((request.query as { format?: string }).format === 'json') return reply.type('application/json').send([health])
      return reply.type('text/plain; charset=UTF-8').send(Object.values(health).join(' ') + '\n')
    })
}
