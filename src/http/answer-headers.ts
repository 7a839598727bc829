import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { lingerOnClose } from './lingering-close.js'
import { API_HEADERS } from './security-headers.js'

/**
 * The one hook every answer meets: the headers it carries (an API's
 * nosniff; while the app closes, `Connection: close`), and a lingering
 * close after a refusal sent before the body was read.
 * Without that, a request in flight at SIGTERM leaves a keep-alive socket
 * behind, and the server waits for the client to drop it (seconds, or never).
 */
export const answerHeaders = fp(async function answerHeaders (app: FastifyInstance) {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  // A callback hook, not an async one: it runs on every response.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.headers(API_HEADERS)
    if (closing) reply.header('connection', 'close')
    // Answered before its body was read: the client may still be sending it.
    if (!request.raw.complete) lingerOnClose(request.raw.socket)
    done(null, payload)
  })
}, { name: 'logfire-answer-headers' })
