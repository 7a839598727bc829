import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import helmet, { type HelmetOptions } from 'helmet'

/** Runs helmet once against a stand-in response and keeps the headers it sets. */
function helmetHeaders (options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  const response = {
    setHeader: (name: string, value: string) => { headers[name.toLowerCase()] = value },
    removeHeader: (name: string) => { delete headers[name.toLowerCase()] }
  }
  helmet(options)({} as never, response as never, () => {})
  return headers
}

/**
 * helmet's security headers on every response. Our policy has no per-request
 * part (no nonces), so helmet runs once at start and each response gets the
 * same headers: running it per request, as @fastify/helmet does, halved the
 * throughput of a bare route on this machine.
 */
export const securityHeaders = fp(async function securityHeaders (app: FastifyInstance, options: HelmetOptions) {
  const headers = helmetHeaders(options)
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}, { name: 'logfire-security-headers' })
