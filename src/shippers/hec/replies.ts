import type { ErrorBody } from '../../http/errors.js'

/** HEC's reply to an accepted request; splunk-logging reads `code`. */
export const HEC_SUCCESS = '{"text":"Success","code":0}'
export const HEC_HEALTHY = { text: 'HEC is healthy', code: 17 }

// HEC's own status codes and texts, by logfire error code. HEC clients tell
// success from failure by `code`, so every refusal needs a non-zero one.
const HEC_CODES: Record<string, [number, string]> = {
  LOGFIRE_TOKEN_REQUIRED: [2, 'Token is required'],
  LOGFIRE_TOKEN_INVALID: [4, 'Invalid token'],
  LOGFIRE_EMPTY_BODY: [5, 'No data'],
  LOGFIRE_HEC_EVENT_REQUIRED: [12, 'Event field is required'],
  LOGFIRE_HEC_EVENT_BLANK: [13, 'Event field cannot be blank'],
  LOGFIRE_HEC_CHANNEL_MISSING: [10, 'Data channel is missing'],
  LOGFIRE_HEC_CHANNEL_INVALID: [11, 'Invalid data channel'],
  LOGFIRE_HEC_ACK_DISABLED: [14, 'ACK is disabled'],
  LOGFIRE_INTERNAL: [8, 'Internal server error'],
  // A burnt chain lost data on the server's side; HEC has no "gone".
  LOGFIRE_BURNED: [8, 'Internal server error'],
  LOGFIRE_RATE_LIMITED: [9, 'Server is busy'],
  LOGFIRE_LP0_ON_FIRE: [9, 'Server is busy'],
  LOGFIRE_BUSY: [9, 'Server is busy'],
  LOGFIRE_STORE_UNAVAILABLE: [9, 'Server is busy'],
  LOGFIRE_FAULT_OVERFLOW: [9, 'Server is busy']
}
// Every other refusal is about the data sent: bad JSON, UTF-8, size, type, GDPR.
const INVALID_DATA_FORMAT: [number, string] = [6, 'Invalid data format']

export interface HecErrorBody {
  text: string
  code: number
  'invalid-event-number'?: number
  /** logfire's own error, with the joke intact. */
  logfire: ErrorBody
}

/** A logfire error in HEC's shape, so HEC clients see a failure, with logfire's error beside it. */
export function hecErrorBody (error: ErrorBody): HecErrorBody {
  const [code, text] = HEC_CODES[error.code] ?? injectedHecCode(error) ?? INVALID_DATA_FORMAT
  const body: HecErrorBody = { text, code, logfire: error }
  if (typeof error.entry === 'number') body['invalid-event-number'] = error.entry
  return body
}

// A status the chaos chose reads as the HEC reply a real Splunk gives with it.
function injectedHecCode (error: ErrorBody): [number, string] | undefined {
  if (error.code !== 'LOGFIRE_INJECTED_STATUS') return undefined
  if (error.statusCode === 429 || error.statusCode === 503) return HEC_CODES.LOGFIRE_BUSY
  return error.statusCode >= 500 ? HEC_CODES.LOGFIRE_INTERNAL : undefined
}
