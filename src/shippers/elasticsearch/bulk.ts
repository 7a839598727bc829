import { EmptyBody, EntryTooLarge, EsInvalidBulk, withExtras } from '../../errors.js'

export type BulkAction = 'index' | 'create' | 'update' | 'delete'

/** An item Elasticsearch refuses for what it holds, as its error reads in the reply. */
export interface ItemError { status: number, type: string, reason: string }

/** One action of a `_bulk` body, with the entry logfire stores for it. */
export interface BulkItem {
  action: BulkAction
  index: string
  /** The `_id` sent; undefined when Elasticsearch would make one up. */
  id: string | undefined
  /** The stored entry: the source document as JSON, led by `_index`, `_id` and `_op`. */
  entry: string
  /** Set when the item is refused for its own content: nothing of it is stored. */
  error?: ItemError
}

const ACTIONS = new Set<string>(['index', 'create', 'update', 'delete'])
// Elasticsearch refuses these in a document: they are its metadata.
const METADATA_FIELDS = new Set(['_index', '_id', '_op', '_source', '_routing', '_version', '_seq_no'])
// Lowercase, none of \ / * ? " < > | , # : or a space, and not led by - _ +.
const INDEX_NAME = /^[^-_+A-Z\\/*?"<>|,# :][^A-Z\\/*?"<>|,# :]{0,254}$/

/**
 * The items of a `_bulk` body: NDJSON action and source line pairs, a
 * `delete` without a source. `urlIndex` applies where an action names none.
 * A malformed action line refuses the whole request, as Elasticsearch does;
 * a source that is not a JSON object refuses only its item.
 *
 * What is stored, one entry per item: the source document with `_index`
 * first, then `_id` when one was sent, then `_op` for `update` (its `doc`,
 * or else its `upsert`) and `delete` (nothing else: the chain never forgets,
 * so a delete is recorded, not done). `_type` and `pipeline` are ignored.
 */
export function parseBulk (text: string, urlIndex: string | undefined, maxEntryBytes: number): BulkItem[] {
  const lines = text.split('\n')
  const items: BulkItem[] = []
  // Clients repeat one action line for a whole batch: parsed once.
  const actions = new Map<string, { action: BulkAction, meta: Record<string, unknown> }>()
  const heads = new Map<string, string | undefined>()
  let line = 0
  const next = (): string | undefined => {
    while (line < lines.length) {
      const raw = lines[line++] as string
      const trimmed = raw.endsWith('\r') ? raw.slice(0, -1) : raw
      // Most lines start with "{": only the others need a look for blankness.
      if (trimmed.charCodeAt(0) === 123 || trimmed.trim() !== '') return trimmed
    }
    return undefined
  }
  for (let actionLine = next(); actionLine !== undefined; actionLine = next()) {
    const at = line
    let parsed = actions.get(actionLine)
    if (parsed === undefined) {
      parsed = parseAction(actionLine, at)
      if (actions.size < 16) actions.set(actionLine, parsed)
    }
    const { action, meta } = parsed
    const index = typeof meta._index === 'string' ? meta._index : urlIndex
    if (index === undefined) throw new EsInvalidBulk(`Validation Failed: index is missing (line ${at}); name it in the URL or in the action`)
    const id = typeof meta._id === 'string' ? meta._id : typeof meta._id === 'number' ? String(meta._id) : undefined
    if (id === undefined && (action === 'update' || action === 'delete')) throw new EsInvalidBulk(`Validation Failed: id is missing for ${action} (line ${at})`)
    const source = action === 'delete' ? undefined : next()
    if (action !== 'delete' && source === undefined) throw new EsInvalidBulk(`the ${action} action on line ${at} has no source line after it`)
    const item = buildItem(action, index, id, source, heads)
    if (item.error === undefined && Buffer.byteLength(item.entry) > maxEntryBytes) {
      throw withExtras(new EntryTooLarge(items.length, maxEntryBytes), { body: { entry: items.length } })
    }
    items.push(item)
  }
  if (items.length === 0) throw new EmptyBody()
  return items
}

function parseAction (text: string, at: number): { action: BulkAction, meta: Record<string, unknown> } {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new EsInvalidBulk(`Malformed action/metadata line [${at}], expected a JSON object`)
  }
  const keys = isObject(parsed) ? Object.keys(parsed) : []
  const action = keys[0]
  if (keys.length !== 1 || action === undefined || !ACTIONS.has(action)) {
    throw new EsInvalidBulk(`Malformed action/metadata line [${at}], expected one of index, create, update or delete`)
  }
  const meta = (parsed as Record<string, unknown>)[action]
  if (!isObject(meta)) throw new EsInvalidBulk(`Malformed action/metadata line [${at}], the ${action} action's metadata must be an object`)
  return { action: action as BulkAction, meta }
}

// `heads` keeps each index's leading JSON, or undefined for a name Elasticsearch refuses.
function buildItem (action: BulkAction, index: string, id: string | undefined, source: string | undefined, heads: Map<string, string | undefined>): BulkItem {
  let indexHead = heads.get(index)
  if (indexHead === undefined && !heads.has(index)) {
    indexHead = INDEX_NAME.test(index) ? `{"_index":${JSON.stringify(index)}` : undefined
    if (heads.size < 64) heads.set(index, indexHead)
  }
  if (indexHead === undefined) return refused(action, index, id, 400, 'invalid_index_name_exception', `Invalid index name [${index.slice(0, 64)}]`)
  const head = id === undefined ? indexHead : `${indexHead},"_id":${JSON.stringify(id)}`
  if (action === 'delete') return { action, index, id, entry: `${head},"_op":"delete"}` }

  let document: unknown
  try {
    document = JSON.parse(source as string)
  } catch {
    return refused(action, index, id, 400, 'mapper_parsing_exception', 'failed to parse: the source is not valid JSON')
  }
  if (!isObject(document)) return refused(action, index, id, 400, 'mapper_parsing_exception', 'failed to parse: the source is not a JSON object')
  if (action === 'update') {
    const doc = isObject(document.doc) ? document.doc : isObject(document.upsert) ? document.upsert : undefined
    if (doc === undefined) return refused(action, index, id, 400, 'action_request_validation_exception', 'Validation Failed: 1: an update needs a doc or an upsert;')
    return withFields(action, index, id, `${head},"_op":"update"`, doc, JSON.stringify(doc))
  }
  return withFields(action, index, id, head, document, source as string)
}

// The document's own text after logfire's fields, kept as it came.
function withFields (action: BulkAction, index: string, id: string | undefined, head: string, document: Record<string, unknown>, text: string): BulkItem {
  for (const field of Object.keys(document)) {
    if (METADATA_FIELDS.has(field)) {
      return refused(action, index, id, 400, 'mapper_parsing_exception', `Field [${field}] is a metadata field and cannot be added inside a document.`)
    }
  }
  // After the opening brace, which JSON.parse has vouched for.
  let start = text.indexOf('{') + 1
  while (text.charCodeAt(start) <= 32) start++
  const rest = text.slice(start)
  return { action, index, id, entry: rest.charCodeAt(0) === 125 ? `${head}}` : `${head},${rest}` }
}

function refused (action: BulkAction, index: string, id: string | undefined, status: number, type: string, reason: string): BulkItem {
  return { action, index, id, entry: '', error: { status, type, reason } }
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
