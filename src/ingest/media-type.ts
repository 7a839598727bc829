export type BodyKind = 'json' | 'text' | 'msgpack' | 'binary'

// Whole families of media that are never log text.
const BINARY_FAMILIES = new Set(['image', 'audio', 'video', 'font', 'model', 'multipart'])

const BINARY_APPLICATION_TYPES = new Set([
  'octet-stream', 'zip', 'gzip', 'x-gzip', 'x-tar', 'x-bzip2', 'x-7z-compressed', 'zstd',
  'pdf', 'wasm', 'cbor', 'protobuf', 'x-protobuf', 'vnd.google.protobuf'
])

const MSGPACK_APPLICATION_TYPES = new Set(['msgpack', 'x-msgpack', 'vnd.msgpack'])

const JSON_APPLICATION_TYPES = new Set(['json', 'x-ndjson', 'ndjson', 'jsonl', 'x-jsonlines', 'json-seq'])

/**
 * How to read a body, judged by its Content-Type. Anything that is not known
 * to be binary is read as text: curl and syslog-ng send raw log lines as
 * application/x-www-form-urlencoded, and some shippers send no type at all.
 */
export function classifyMediaType (contentType: string | undefined): BodyKind {
  if (contentType === undefined) return 'text'
  const essence = (contentType.split(';')[0] as string).trim().toLowerCase()
  const [family = '', subtype = ''] = essence.split('/')
  if (BINARY_FAMILIES.has(family)) return 'binary'
  if (family !== 'application') return 'text'
  if (BINARY_APPLICATION_TYPES.has(subtype)) return 'binary'
  if (MSGPACK_APPLICATION_TYPES.has(subtype)) return 'msgpack'
  if (JSON_APPLICATION_TYPES.has(subtype) || subtype.endsWith('+json')) return 'json'
  return 'text'
}
