import type { ErrorBody } from '../../http/errors.js'
import type { ItemRejectStatus } from '../../fire/batches.js'
import type { BulkItem, ItemError } from './bulk.js'

/** The version logfire reports: high enough that Filebeat 8 and 9 and Logstash accept it. */
export const ES_VERSION = '9.1.0'

/** GET / as Elasticsearch answers it; Logstash, Filebeat, Vector and rsyslog read `version`. */
export function rootDocument (seed: string) {
  return {
    name: 'logfire',
    cluster_name: 'logfire',
    cluster_uuid: `logfire-${seed}`,
    version: {
      number: ES_VERSION,
      build_flavor: 'default',
      build_type: 'docker',
      build_hash: 'logfire',
      build_date: '2026-01-01T00:00:00.000Z',
      build_snapshot: false,
      lucene_version: '10.2.2',
      minimum_wire_compatibility_version: '8.19.0',
      minimum_index_compatibility_version: '8.0.0'
    },
    tagline: 'You Know, for Search'
  }
}

// The error a single item gets when the chaos refuses it, by status.
const REFUSALS: Record<ItemRejectStatus, Omit<ItemError, 'status'>> = {
  400: { type: 'mapper_parsing_exception', reason: 'failed to parse: refused by the chaos (itemRejectRate)' },
  409: { type: 'version_conflict_engine_exception', reason: 'version conflict, document already exists: refused by the chaos (itemRejectRate)' },
  429: { type: 'es_rejected_execution_exception', reason: 'rejected execution of bulk item: the write queue is full (itemRejectRate)' },
  500: { type: 'exception', reason: 'the shard failed: refused by the chaos (itemRejectRate)' },
  503: { type: 'unavailable_shards_exception', reason: 'primary shard is not active: refused by the chaos (itemRejectRate)' }
}

export function refusal (status: ItemRejectStatus): ItemError {
  return { status, ...REFUSALS[status] }
}

const SHARDS = { total: 1, successful: 1, failed: 0 }
const RESULTS = { index: ['created', 201], create: ['created', 201], update: ['updated', 200], delete: ['deleted', 200] } as const

/**
 * The `_bulk` reply: one item per action, in request order, as compact JSON
 * (Vector looks for the literal `"errors":true`). `stored` is the block
 * index of each stored item, `errors` the error of each refused one.
 */
export function bulkReply (items: readonly BulkItem[], outcome: (index: number) => { block: number } | { error: ItemError }, tookMs: number): string {
  let errors = false
  const replies = items.map((item, index) => {
    const fate = outcome(index)
    if ('error' in fate) {
      errors = true
      const { status, type, reason } = fate.error
      return { [item.action]: { _index: item.index, _id: item.id ?? null, status, error: { type, reason, index: item.index } } }
    }
    const [result, status] = RESULTS[item.action]
    return {
      [item.action]: {
        _index: item.index,
        _id: item.id ?? String(fate.block),
        _version: 1,
        result,
        _shards: SHARDS,
        _seq_no: fate.block,
        _primary_term: 1,
        status
      }
    }
  })
  return JSON.stringify({ took: tookMs, errors, items: replies })
}

// Elasticsearch's error types for the statuses logfire answers a whole request with.
const TYPES: Record<number, string> = {
  400: 'parse_exception',
  401: 'security_exception',
  403: 'security_exception',
  404: 'resource_not_found_exception',
  413: 'content_too_long_exception',
  415: 'media_type_header_exception',
  429: 'es_rejected_execution_exception',
  503: 'unavailable_shards_exception'
}

export interface EsErrorBody {
  error: { root_cause: Array<{ type: string, reason: string }>, type: string, reason: string, logfire: ErrorBody }
  status: number
}

/** A logfire error as Elasticsearch writes one, with logfire's own inside it. */
export function esErrorBody (error: ErrorBody): EsErrorBody {
  const type = TYPES[error.statusCode] ?? `logfire_${error.code.replace(/^LOGFIRE_/, '').toLowerCase()}_exception`
  return { error: { root_cause: [{ type, reason: error.message }], type, reason: error.message, logfire: error }, status: error.statusCode }
}
