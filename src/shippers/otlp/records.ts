import { NestedTooDeep, OtlpInvalid } from '../../errors.js'

/*
 * From an ExportLogsServiceRequest to logfire's entries, one per log record.
 * The same walk reads both encodings: protobufjs's objects (ids as bytes,
 * 64-bit numbers as strings) and OTLP JSON (ids as hex, 64-bit numbers as
 * strings or numbers, enums as integers, unknown fields ignored).
 *
 * An entry is compact JSON, with only the fields the record has:
 *   {"time":"2026-12-03T10:00:00.123456789Z","severity":"INFO","severityNumber":9,
 *    "body":"a line","attributes":{...},"resource":{"service.name":"api"},
 *    "scope":{"name":"pino","version":"1.0.0"},"traceId":"…","spanId":"…","eventName":"…"}
 * `time` is the record's time, or its observed time when that is 0 (unknown).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Loose = Record<string, unknown>

const MAX_DEPTH = 32

export function logEntries (request: unknown): string[] {
  const entries: string[] = []
  for (const resourceLogs of list(objectOf(request, 'the request'), 'resourceLogs')) {
    const resource = attributes(objectOf(objectOf(resourceLogs, 'resourceLogs').resource ?? {}, 'resource').attributes)
    for (const scopeLogs of list(resourceLogs as Loose, 'scopeLogs')) {
      const scope = scopeOf(objectOf(scopeLogs, 'scopeLogs').scope)
      for (const record of list(scopeLogs as Loose, 'logRecords')) {
        entries.push(JSON.stringify(entry(objectOf(record, 'a log record'), resource, scope)))
      }
    }
  }
  return entries
}

function entry (record: Loose, resource: Record<string, Json>, scope: Record<string, Json> | undefined): Record<string, Json> {
  const out: Record<string, Json> = {}
  const time = timeOf(record.timeUnixNano) ?? timeOf(record.observedTimeUnixNano)
  if (time !== undefined) out.time = time
  if (typeof record.severityText === 'string' && record.severityText !== '') out.severity = record.severityText
  const severity = integer(record.severityNumber, 'severityNumber')
  if (severity !== 0) out.severityNumber = severity
  if (record.body !== undefined && record.body !== null) out.body = anyValue(record.body, 0)
  const own = attributes(record.attributes)
  if (Object.keys(own).length > 0) out.attributes = own
  if (Object.keys(resource).length > 0) out.resource = resource
  if (scope !== undefined) out.scope = scope
  const traceId = idOf(record.traceId, 16, 'traceId')
  if (traceId !== undefined) out.traceId = traceId
  const spanId = idOf(record.spanId, 8, 'spanId')
  if (spanId !== undefined) out.spanId = spanId
  if (typeof record.eventName === 'string' && record.eventName !== '') out.eventName = record.eventName
  return out
}

function scopeOf (value: unknown): Record<string, Json> | undefined {
  if (value === undefined || value === null) return undefined
  const scope = objectOf(value, 'scope')
  const out: Record<string, Json> = {}
  if (typeof scope.name === 'string' && scope.name !== '') out.name = scope.name
  if (typeof scope.version === 'string' && scope.version !== '') out.version = scope.version
  const own = attributes(scope.attributes)
  if (Object.keys(own).length > 0) out.attributes = own
  return Object.keys(out).length > 0 ? out : undefined
}

function attributes (value: unknown, depth = 0): Record<string, Json> {
  const out: Record<string, Json> = {}
  if (value === undefined || value === null) return out
  if (!Array.isArray(value)) throw new OtlpInvalid('attributes must be a list of {key, value}')
  for (const pair of value) {
    const { key, value: inner } = objectOf(pair, 'an attribute')
    if (typeof key !== 'string') throw new OtlpInvalid('an attribute has no string key')
    // Not a prototype's key: `__proto__` would not be stored as data.
    Object.defineProperty(out, key, { value: inner === undefined || inner === null ? null : anyValue(inner, depth + 1), enumerable: true, writable: true, configurable: true })
  }
  return out
}

// AnyValue: exactly one of its fields, as JSON.
function anyValue (value: unknown, depth: number): Json {
  if (depth > MAX_DEPTH) throw new NestedTooDeep()
  const any = objectOf(value, 'a value')
  if (typeof any.stringValue === 'string') return any.stringValue
  if (typeof any.boolValue === 'boolean') return any.boolValue
  if (any.intValue !== undefined) return int64(any.intValue, 'intValue')
  if (any.doubleValue !== undefined) {
    const number = typeof any.doubleValue === 'string' ? Number(any.doubleValue) : any.doubleValue
    if (typeof number !== 'number') throw new OtlpInvalid('doubleValue is not a number')
    return Number.isFinite(number) ? number : String(number)
  }
  if (any.arrayValue !== undefined) return list(objectOf(any.arrayValue, 'arrayValue'), 'values').map((item) => anyValue(item, depth + 1))
  if (any.kvlistValue !== undefined) return attributes(objectOf(any.kvlistValue, 'kvlistValue').values, depth + 1)
  if (any.bytesValue !== undefined) return bytesBase64(any.bytesValue)
  return null
}

function list (object: Loose, field: string): unknown[] {
  const value = object[field]
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new OtlpInvalid(`${field} must be a list`)
  return value
}

function objectOf (value: unknown, what: string): Loose {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OtlpInvalid(`${what} must be an object`)
  return value as Loose
}

// int64 in JSON: a decimal string or a number; from protobuf, a decimal string.
function int64 (value: unknown, field: string): number | string {
  if (typeof value === 'number' && Number.isInteger(value)) return value
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value)) {
    const number = Number(value)
    return Number.isSafeInteger(number) ? number : value
  }
  throw new OtlpInvalid(`${field} is not a 64-bit integer`)
}

function integer (value: unknown, field: string): number {
  if (value === undefined || value === null) return 0
  if (typeof value === 'number' && Number.isInteger(value)) return value
  throw new OtlpInvalid(`${field} must be an integer (OTLP JSON sends enums as integers)`)
}

const NANOS = 1_000_000_000n
// 9999-12-31T23:59:59Z, the last second an ISO timestamp can name.
const LAST = 253_402_300_799n

/** A Unix time in nanoseconds as an ISO timestamp with all nine digits; undefined for 0 (unknown). */
function timeOf (value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  const text = typeof value === 'number' && Number.isInteger(value) && value >= 0 ? BigInt(value).toString() : value
  if (typeof text !== 'string' || !/^\d{1,20}$/.test(text)) throw new OtlpInvalid('a time is not a 64-bit count of nanoseconds')
  const nanos = BigInt(text)
  if (nanos === 0n) return undefined
  const seconds = nanos / NANOS
  if (seconds > LAST) throw new OtlpInvalid('a time is past the year 9999')
  const fraction = (nanos % NANOS).toString().padStart(9, '0')
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}.${fraction}Z`
}

/** A trace or span id as lowercase hex; undefined when absent or all zero (invalid, per the spec). */
function idOf (value: unknown, bytes: number, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined
  let hex: string
  if (value instanceof Uint8Array) {
    if (value.length === 0) return undefined
    hex = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')
  } else if (typeof value === 'string') {
    hex = value.toLowerCase()
  } else {
    throw new OtlpInvalid(`${field} must be hex`)
  }
  if (hex.length !== bytes * 2 || !/^[0-9a-f]+$/.test(hex)) throw new OtlpInvalid(`${field} must be ${bytes} bytes of hex`)
  return /^0+$/.test(hex) ? undefined : hex
}

function bytesBase64 (value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64')
  if (typeof value === 'string') return value
  throw new OtlpInvalid('bytesValue must be base64')
}
