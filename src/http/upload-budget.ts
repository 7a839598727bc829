import type { FastifyReply, FastifyRequest } from 'fastify'
import { UploadsBusy, withExtras } from '../errors.js'

const SMALL_BODY_BYTES = 8 * 1024

export interface UploadBudgetOptions {
  /** Bytes of request bodies that may be on their way in at once. */
  maxInflightBytes: number
  /** What a body without a Content-Length may grow to, so what it reserves. */
  maxBodyBytes: number
}

/**
 * Bounds the memory of bodies being received: each request reserves its
 * Content-Length (or the body limit, when it is chunked) before its body is
 * read, and gives it back when its response is done or its socket closes.
 * Bodies of 8 KiB or less are not counted: the connection cap bounds them.
 * Past the budget the request is refused with a 503 before a byte of its
 * body is read. One upload is always let in, however big, so a budget
 * smaller than the body limit never locks every client out.
 *
 * A step of the chaos's preParsing hook (chaos-pipeline.ts), not a hook of
 * its own: a hook per step cost a one-line POST about 4% each.
 */
export class UploadBudget {
  #inflight = 0
  readonly #options: UploadBudgetOptions

  constructor (options: UploadBudgetOptions) {
    this.#options = options
  }

  /** Reserves the request's body, or says why it cannot be read now. */
  admit (request: FastifyRequest, reply: FastifyReply): Error | undefined {
    const declared = request.headers['content-length']
    const length = declared === undefined ? undefined : Number(declared)
    // No body, or a small one: not worth a reservation on the hot path.
    // LOGFIRE_MAX_CONNECTIONS bounds those: 1,024 of them are 8 MiB.
    if ((length !== undefined && length <= SMALL_BODY_BYTES) || (declared === undefined && request.headers['transfer-encoding'] === undefined)) return undefined
    const reserved = length === undefined || Number.isNaN(length) ? this.#options.maxBodyBytes : Math.min(length, this.#options.maxBodyBytes)
    if (this.#inflight > 0 && this.#inflight + reserved > this.#options.maxInflightBytes) return withExtras(new UploadsBusy(), { headers: { 'retry-after': '1' } })
    this.#inflight += reserved
    reply.raw.once('close', () => { this.#inflight -= reserved })
    return undefined
  }
}
