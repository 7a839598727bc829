// splunk-logging ships no types; this is the part the end-to-end test uses.
declare module 'splunk-logging' {
  export interface SplunkContext {
    message: unknown
    severity?: string
    metadata?: Record<string, string>
  }
  export class Logger {
    constructor (config: { token: string, url: string, maxBatchCount?: number, maxRetries?: number })
    requestOptions: { headers?: Record<string, string> }
    error: (error: Error & { code?: number }, context: SplunkContext) => void
    send (context: SplunkContext, callback?: (error: Error | null, response: unknown, body: unknown) => void): void
    flush (callback?: (error: Error | null, response: unknown, body: unknown) => void): void
  }
}
