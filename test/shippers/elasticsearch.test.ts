import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { NO_BATCH_CHAOS } from '../../src/fire/batches.js'
import { canaryLine } from '../../src/scorecard/token.js'
import { parseBulk } from '../../src/shippers/elasticsearch/bulk.js'
import { appsClosedAfterEach, chainEntries, type TestApp } from '../helpers.js'

const ndjson = (...lines: unknown[]) => lines.map((line) => JSON.stringify(line)).join('\n') + '\n'
const pairs = (index: string, count: number, prefix = 'doc') =>
  ndjson(...Array.from({ length: count }, (_, i) => [{ index: { _index: index } }, { message: `${prefix} ${i + 1}` }]).flat())

describe('parseBulk', () => {
  it('reads action and source pairs, with a \\r before the newline, blank lines, and a delete without a source', () => {
    const items = parseBulk('{"index":{"_index":"a","_id":"1","_type":"_doc","pipeline":"p"}}\r\n{"m":1}\r\n\n{"delete":{"_id":"2"}}\n{"update":{"_id":"3"}}\n{"doc":{"m":3}}\n{"create":{}}\n{ "m" : 4 }\n', 'url', 65536)
    expect(items.map((item) => item.entry)).toEqual([
      '{"_index":"a","_id":"1","m":1}',
      '{"_index":"url","_id":"2","_op":"delete"}',
      '{"_index":"url","_id":"3","_op":"update","m":3}',
      '{"_index":"url","m" : 4 }'
    ])
    expect(items.map((item) => item.action)).toEqual(['index', 'delete', 'update', 'create'])
  })

  it('refuses only the item whose source is not a JSON object, or holds a metadata field, or names a bad index', () => {
    const items = parseBulk(ndjson({ index: {} }, [1], { index: {} }, { _id: 'x' }, { index: { _index: 'Upper' } }, {}, { index: {} }, {}), 'ok', 65536)
    expect(items.map((item) => item.error?.type)).toEqual(['mapper_parsing_exception', 'mapper_parsing_exception', 'invalid_index_name_exception', undefined])
    expect(items[3]!.entry).toBe('{"_index":"ok"}')
  })

  it.each([
    ['an action line that is not JSON', '{index\n{}\n'],
    ['an unknown action', ndjson({ upsert: {} }, {})],
    ['two actions on one line', ndjson({ index: {}, create: {} }, {})],
    ['a source line missing at the end', ndjson({ index: {} })],
    ['no index anywhere', ndjson({ index: {} }, {})],
    ['an update without an _id', ndjson({ update: { _index: 'a' } }, { doc: {} })]
  ])('refuses the whole request for %s', (_what, body) => {
    expect(() => parseBulk(body, undefined, 65536)).toThrow(expect.objectContaining({ code: 'LOGFIRE_ES_INVALID_BULK', statusCode: 400 }))
  })
})

describe('POST /es/_bulk', () => {
  const start = appsClosedAfterEach()
  const bulk = (app: TestApp, payload: string | Buffer, headers: Record<string, string> = {}, url = '/es/_bulk') =>
    app.inject({ method: 'POST', url, payload, headers: { 'content-type': 'application/x-ndjson', ...headers } })

  it.each([
    'application/x-ndjson',
    'application/json',
    'application/json; charset=UTF-8',
    'application/vnd.elasticsearch+x-ndjson; compatible-with=8',
    'application/vnd.elasticsearch+x-ndjson; compatible-with=9'
  ])('takes %s, and answers every item in order as compact JSON with the product header', async (type) => {
    const app = await start()
    const response = await bulk(app, pairs('logs', 3), { 'content-type': type })
    expect(response.statusCode).toBe(200)
    expect(response.headers['x-elastic-product']).toBe('Elasticsearch')
    expect(response.headers['content-type']).toMatch(/^application\/json/)
    expect(response.body).toContain('"errors":false')
    expect(response.json().items.map((item: { index: { _id: string, status: number, result: string } }) => item.index)).toMatchObject([
      { _index: 'logs', _id: '1', status: 201, result: 'created' }, { _id: '2' }, { _id: '3' }
    ])
    expect(await chainEntries(app)).toEqual(['{"_index":"logs","message":"doc 1"}', '{"_index":"logs","message":"doc 2"}', '{"_index":"logs","message":"doc 3"}'])
  })

  it('takes a gzipped body, as Logstash sends by default, and the index from the URL', async () => {
    const app = await start()
    const response = await bulk(app, gzipSync(ndjson({ create: {} }, { message: 'zipped' })), { 'content-encoding': 'gzip' }, '/es/logstash/_bulk')
    expect(response.json()).toMatchObject({ errors: false, items: [{ create: { _index: 'logstash', status: 201 } }] })
    expect(await chainEntries(app)).toEqual(['{"_index":"logstash","message":"zipped"}'])
  })

  it('refuses a seeded share of items with 429 es_rejected_execution_exception, stores only the others, and replays them', async () => {
    const outcomes: string[][] = []
    for (let run = 0; run < 2; run++) {
      const app = await start({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 0.3 } })
      const response = await bulk(app, pairs('busy', 40))
      expect(response.body).toContain('"errors":true')
      const items = response.json().items.map((item: { index: { status: number, error?: { type: string } } }) => item.index)
      const refused = items.filter((item: { status: number }) => item.status === 429)
      expect(refused.length).toBeGreaterThan(4)
      expect(refused.length).toBeLessThan(25)
      expect(refused[0].error.type).toBe('es_rejected_execution_exception')
      const kept = await chainEntries(app)
      expect(kept).toHaveLength(40 - refused.length)
      outcomes.push(kept)
    }
    expect(outcomes[0]).toEqual(outcomes[1])
  })

  it('refuses no item when X-Logfire-Chaos chose the fate: what it does not name does not happen', async () => {
    const app = await start({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 1 } })
    expect((await bulk(app, pairs('chosen', 5), { 'x-logfire-chaos': 'off' })).json().errors).toBe(false)
    expect(await chainEntries(app)).toHaveLength(5)
  })

  it('refuses the whole request with the chaos, in Elasticsearch\'s error shape: 503 lp0, 410 burn, 451 GDPR, 413 over the batch limit', async () => {
    const app = await start({ maxEntriesPerRequest: 3 })
    const cases: Array<[Record<string, string>, string, number, string]> = [
      [{ 'x-logfire-chaos': 'fire' }, pairs('a', 1), 503, 'LOGFIRE_LP0_ON_FIRE'],
      [{ 'x-logfire-chaos': 'burn' }, pairs('a', 1), 410, 'LOGFIRE_BURNED'],
      [{}, ndjson({ index: { _index: 'a' } }, { message: 'fine' }, { index: { _index: 'a' } }, { message: 'shipped to eu-west-1' }), 451, 'LOGFIRE_GDPR'],
      [{}, pairs('a', 4), 413, 'LOGFIRE_TOO_MANY_ENTRIES']
    ]
    for (const [headers, payload, status, code] of cases) {
      const response = await bulk(app, payload, headers)
      expect(response.statusCode).toBe(status)
      expect(response.headers['x-elastic-product']).toBe('Elasticsearch')
      expect(response.json()).toMatchObject({ status, error: { type: expect.any(String), reason: expect.any(String), logfire: { code } } })
    }
    expect(await chainEntries(app)).toEqual([])
  })

  it('counts the canary lines of refused items on the scorecard, by status', async () => {
    const app = await start({ batches: { ...NO_BATCH_CHAOS, itemRejectRate: 0.5 } })
    await app.inject({ method: 'PUT', url: '/scorecard/es' })
    const sent = Array.from({ length: 20 }, (_, i) => [{ index: { _index: 'canary' } }, { message: canaryLine('es', i + 1, 1_700_000_000_000) }]).flat()
    const items = (await bulk(app, ndjson(...sent))).json().items as Array<{ index: { status: number } }>
    const refused = items.filter((item) => item.index.status === 429).length
    expect((await app.inject({ method: 'GET', url: '/scorecard/es' })).json()).toMatchObject({ delivered: 20 - refused, refusedLines: { 429: refused } })
  })

  it('answers a 400 for a malformed action line, storing nothing of the request', async () => {
    const app = await start()
    const response = await bulk(app, pairs('a', 2) + '{"nope":{}}\n{}\n')
    expect(response.statusCode).toBe(400)
    expect(response.json()).toMatchObject({ status: 400, error: { logfire: { code: 'LOGFIRE_ES_INVALID_BULK' } } })
    expect(await chainEntries(app)).toEqual([])
  })
})

describe("Elasticsearch's startup calls, outside the fire", () => {
  const start = appsClosedAfterEach()

  it('answers GET and HEAD /es, the licence and the health, with the product header, even with lp0 always on fire', async () => {
    const app = await start({ fireRate: 1 })
    const get = (url: string) => app.inject({ method: 'GET', url })
    const root = await get('/es')
    expect(root.json()).toMatchObject({ version: { number: expect.stringMatching(/^9\./), build_flavor: 'default' }, tagline: 'You Know, for Search' })
    expect((await app.inject({ method: 'HEAD', url: '/es/' })).statusCode).toBe(200)
    expect((await get('/es/_license')).json()).toMatchObject({ license: { status: 'active' } })
    expect((await get('/es/_cluster/health')).json()).toMatchObject({ status: 'green' })
    expect((await get('/_cat/health')).body).toMatch(/ logfire green /)
    for (const url of ['/es', '/es/_license', '/es/_cluster/health', '/_cat/health', '/es/pino/_refresh']) {
      const response = await get(url)
      expect(response.statusCode, url).toBe(200)
      expect(response.headers['x-elastic-product'], url).toBe('Elasticsearch')
    }
  })

  it('remembers templates and ILM policies: HEAD is 404 until they are PUT, then GET returns them', async () => {
    const app = await start()
    for (const [path, read] of [
      ['/es/_index_template/logs', { index_templates: [{ name: 'logs', index_template: { index_patterns: ['logs-*'] } }] }],
      ['/es/_template/logs', { logs: { index_patterns: ['logs-*'] } }],
      ['/es/_ilm/policy/logs', { logs: { policy: { index_patterns: ['logs-*'] } } }]
    ] as const) {
      expect((await app.inject({ method: 'HEAD', url: path })).statusCode).toBe(404)
      const put = await app.inject({ method: 'PUT', url: path, payload: { index_patterns: ['logs-*'] }, headers: { 'content-type': 'application/vnd.elasticsearch+json; compatible-with=8' } })
      expect(put.json()).toEqual({ acknowledged: true })
      expect((await app.inject({ method: 'HEAD', url: path })).statusCode).toBe(200)
      expect((await app.inject({ method: 'GET', url: path })).json()).toMatchObject(read)
    }
  })

  it('lists the Elasticsearch routes in the OpenAPI document under /es, and the root aliases rsyslog reaches', async () => {
    const app = await start()
    const paths = Object.keys((await app.inject({ method: 'GET', url: '/docs/json' })).json().paths)
    expect(paths).toEqual(expect.arrayContaining(['/es/_bulk', '/es/{index}/_bulk', '/es', '/es/_license', '/es/_cluster/health', '/es/_cat/health']))
    expect(paths).toEqual(expect.arrayContaining(['/_bulk', '/_cat/health']))
  })
})
