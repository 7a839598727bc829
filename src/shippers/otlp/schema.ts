import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type protobuf from 'protobufjs'
import { OtlpInvalid } from '../../errors.js'

// proto/ sits at the project root, three levels up from src/ and from dist/ alike.
const PROTO_DIR = fileURLToPath(new URL('../../../proto/', import.meta.url))
const PACKAGE = 'opentelemetry.proto.collector.logs.v1'

/** The OTLP messages logfire reads and writes, from the vendored .proto files. */
export interface OtlpSchema {
  request: protobuf.Type
  response: protobuf.Type
  /** google.rpc.Status: the body of an OTLP error. */
  status: protobuf.Type
}

// protobufjs and the .proto files are loaded by the first message that needs
// them: most processes never see OTLP, and would hold a megabyte of heap for
// nothing.
const require = createRequire(import.meta.url)
const protobufjs = (): typeof protobuf => require('protobufjs') as typeof protobuf

/** The schema, read from the .proto files when one of its messages is first used. */
export function loadOtlpSchema (): OtlpSchema {
  let types: OtlpSchema | undefined
  const read = (): OtlpSchema => {
    types ??= readOtlpSchema()
    return types
  }
  return {
    get request () { return read().request },
    get response () { return read().response },
    get status () { return read().status }
  }
}

function readOtlpSchema (): OtlpSchema {
  const protobuf = protobufjs()
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => join(PROTO_DIR, target)
  root.loadSync(`${PACKAGE.replaceAll('.', '/')}/logs_service.proto`)
  // google/rpc/status.proto's three fields; `details` (Any) is never sent.
  const status = new protobuf.Type('Status')
    .add(new protobuf.Field('code', 1, 'int32'))
    .add(new protobuf.Field('message', 2, 'string'))
  new protobuf.Namespace('google.rpc').add(status)
  root.add(status.parent as protobuf.Namespace)
  return {
    request: root.lookupType(`${PACKAGE}.ExportLogsServiceRequest`),
    response: root.lookupType(`${PACKAGE}.ExportLogsServiceResponse`),
    status
  }
}

/** An ExportLogsServiceRequest as plain objects, 64-bit numbers as strings, or a 400. */
export function decodeExportRequest (schema: OtlpSchema, encoding: 'json' | 'protobuf', bytes: Buffer): unknown {
  if (encoding === 'json') {
    try {
      return JSON.parse(bytes.toString('utf8'))
    } catch (error) {
      throw new OtlpInvalid(`the JSON does not parse: ${(error as Error).message}`)
    }
  }
  try {
    return schema.request.toObject(schema.request.decode(bytes), { longs: String })
  } catch (error) {
    // A truncated message, a wrong wire type, or nesting past protobufjs's limit.
    throw new OtlpInvalid(`the protobuf does not decode: ${(error as Error).message}`)
  }
}

/** countLogRecords, with a message that does not parse as a 400. */
export function recordCount (bytes: Buffer): number {
  try {
    return countLogRecords(bytes)
  } catch (error) {
    throw new OtlpInvalid(`the protobuf does not decode: ${(error as Error).message}`)
  }
}

/**
 * How many log records a protobuf ExportLogsServiceRequest holds, read from
 * the wire without decoding it: decoding costs about 500 bytes of heap a
 * record, and an empty record is 2 bytes on the wire.
 */
export function countLogRecords (bytes: Uint8Array): number {
  let count = 0
  eachField(bytes, 1, (resourceLogs) => { eachField(resourceLogs, 2, (scopeLogs) => { eachField(scopeLogs, 2, () => { count++ }) }) })
  return count
}

// Calls `visit` with the bytes of every length-delimited `field`, skipping the rest.
function eachField (bytes: Uint8Array, field: number, visit: (bytes: Uint8Array) => void): void {
  const reader = protobufjs().Reader.create(bytes)
  while (reader.pos < reader.len) {
    const tag = reader.uint32()
    if (tag >>> 3 === field && (tag & 7) === 2) visit(reader.bytes())
    else reader.skipType(tag & 7)
  }
}
