import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'

/**
 * While the app closes, every response tells its client to hang up. Without
 * this, a request that was in flight at SIGTERM leaves a keep-alive socket
 * behind, and the server waits for the client to drop it (seconds, or never).
 */
export const gracefulClose = fp(async function gracefulClose (app: FastifyInstance) {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  // A callback hook, not an async one: it runs on every response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close')
    done(null, payload)
  })
}, { name: 'logfire-graceful-close' })
