import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { API_HEADERS } from './security-headers.js'

/**
 * The headers every answer carries, set in the one hook every answer meets:
 * an API's (nosniff), and while the app closes, `Connection: close`.
 * Without that, a request in flight at SIGTERM leaves a keep-alive socket
 * behind, and the server waits for the client to drop it (seconds, or never).
 */
export const answerHeaders = fp(async function answerHeaders (app: FastifyInstance) {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  // A callback hook, not an async one: it runs on every response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    reply.headers(API_HEADERS)
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'logfire-answer-headers' })
