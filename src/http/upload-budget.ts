import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
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
 */
export const uploadBudget = fp(async function uploadBudget (app: FastifyInstance, options: UploadBudgetOptions) {
  let inflight = 0

  app.addHook('preParsing', (request, reply, payload, done) => {
    const declared = request.headers['content-length']
    const length = declared === undefined ? undefined : Number(declared)
    // No body, or a small one: not worth a reservation on the hot path.
    // LOGFIRE_MAX_CONNECTIONS bounds those: 1,024 of them are 8 MiB.
    if ((length !== undefined && length <= SMALL_BODY_BYTES) || (declared === undefined && request.headers['transfer-encoding'] === undefined)) {
      done(null, payload)
      return
    }
    const reserved = length === undefined || Number.isNaN(length) ? options.maxBodyBytes : Math.min(length, options.maxBodyBytes)
    if (inflight > 0 && inflight + reserved > options.maxInflightBytes) {
      done(withExtras(new UploadsBusy(), { headers: { 'retry-after': '1' } }))
      return
    }
    inflight += reserved
    reply.raw.once('close', () => { inflight -= reserved })
    done(null, payload)
  })
}, { name: 'logfire-upload-budget' })
