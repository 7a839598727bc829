import type { ErrorBody } from '../../http/errors.js'
import type { OtlpSchema } from './schema.js'

export type OtlpEncoding = 'protobuf' | 'json'

export const CONTENT_TYPES: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json'
}

/** The encoding a request's Content-Type names; JSON for anything else, so a 415 can be read. */
export function encodingOf (contentType: string | undefined): OtlpEncoding | undefined {
  const essence = (contentType ?? '').split(';')[0]!.trim().toLowerCase()
  if (essence === 'application/x-protobuf' || essence === 'application/protobuf') return 'protobuf'
  if (essence === 'application/json') return 'json'
  return undefined
}

/** ExportLogsServiceResponse: empty on full success; partialSuccess when records were refused. */
export function exportResponse (schema: OtlpSchema, encoding: OtlpEncoding, rejected: number): Buffer | string {
  const partialSuccess = rejected === 0
    ? undefined
    : { rejectedLogRecords: String(rejected), errorMessage: `${rejected} log records refused by the chaos (itemRejectRate); they were not stored, and must not be retried` }
  if (encoding === 'json') return JSON.stringify(partialSuccess === undefined ? {} : { partialSuccess })
  const message = schema.response.fromObject(partialSuccess === undefined ? {} : { partialSuccess })
  return Buffer.from(schema.response.encode(message).finish())
}

// The gRPC code closest to each HTTP status logfire answers with.
const GRPC_CODES: Record<number, number> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  410: 10, // ABORTED: the chain burned with the batch
  413: 8, // RESOURCE_EXHAUSTED
  415: 3,
  429: 8,
  451: 7,
  503: 14 // UNAVAILABLE
}

/** A logfire error as google.rpc.Status, in the request's encoding; logfire's code leads the message. */
export function statusBody (schema: OtlpSchema, encoding: OtlpEncoding, error: ErrorBody): Buffer | string {
  const status = { code: GRPC_CODES[error.statusCode] ?? (error.statusCode >= 500 ? 13 : 2), message: `${error.code}: ${error.message}` }
  if (encoding === 'json') return JSON.stringify({ ...status, logfire: error })
  return Buffer.from(schema.status.encode(schema.status.fromObject(status)).finish())
}
