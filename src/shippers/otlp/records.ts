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
  const times = new IsoSeconds()
  for (const resourceLogs of list(objectOf(request, 'the request'), 'resourceLogs')) {
    const resource = attributes(objectOf(objectOf(resourceLogs, 'resourceLogs').resource ?? {}, 'resource').attributes)
    // Serialised once for all the records that share it.
    const resourceJson = Object.keys(resource).length > 0 ? `,"resource":${JSON.stringify(resource)}` : ''
    for (const scopeLogs of list(resourceLogs as Loose, 'scopeLogs')) {
      const scope = scopeOf(objectOf(scopeLogs, 'scopeLogs').scope)
      const shared = resourceJson + (scope === undefined ? '' : `,"scope":${JSON.stringify(scope)}`)
      for (const record of list(scopeLogs as Loose, 'logRecords')) {
        entries.push(entry(objectOf(record, 'a log record'), shared, times))
      }
    }
  }
  return entries
}

// The fields in the documented order; `shared` is the resource and the scope, already JSON.
function entry (record: Loose, shared: string, times: IsoSeconds): string {
  let json = ''
  const time = times.of(record.timeUnixNano) ?? times.of(record.observedTimeUnixNano)
  if (time !== undefined) json += `,"time":"${time}"`
  if (typeof record.severityText === 'string' && record.severityText !== '') json += `,"severity":${JSON.stringify(record.severityText)}`
  const severity = integer(record.severityNumber, 'severityNumber')
  if (severity !== 0) json += `,"severityNumber":${severity}`
  if (record.body !== undefined && record.body !== null) json += `,"body":${JSON.stringify(anyValue(record.body, 0))}`
  const own = attributes(record.attributes)
  if (Object.keys(own).length > 0) json += `,"attributes":${JSON.stringify(own)}`
  json += shared
  const traceId = idOf(record.traceId, 16, 'traceId')
  if (traceId !== undefined) json += `,"traceId":"${traceId}"`
  const spanId = idOf(record.spanId, 8, 'spanId')
  if (spanId !== undefined) json += `,"spanId":"${spanId}"`
  if (typeof record.eventName === 'string' && record.eventName !== '') json += `,"eventName":${JSON.stringify(record.eventName)}`
  return json === '' ? '{}' : `{${json.slice(1)}}`
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

// 9999-12-31T23:59:59Z, the last second an ISO timestamp can name.
const LAST_SECOND = 253_402_300_799

/**
 * Unix times in nanoseconds as ISO timestamps with all nine digits;
 * undefined for 0 (unknown). Records of a batch mostly share their second,
 * so the last second's text is kept.
 */
class IsoSeconds {
  #second = -1
  #text = ''

  of (value: unknown): string | undefined {
    if (value === undefined || value === null) return undefined
    const digits = typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? BigInt(value).toString() : value
    if (typeof digits !== 'string' || !/^\d{1,20}$/.test(digits)) throw new OtlpInvalid('a time is not a 64-bit count of nanoseconds')
    if (/^0+$/.test(digits)) return undefined
    const padded = digits.padStart(10, '0')
    const second = Number(padded.slice(0, -9))
    if (second > LAST_SECOND) throw new OtlpInvalid('a time is past the year 9999')
    if (second !== this.#second) {
      this.#second = second
      this.#text = new Date(second * 1000).toISOString().slice(0, 19)
    }
    return `${this.#text}.${padded.slice(-9)}Z`
  }
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
