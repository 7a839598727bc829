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
 * helmet's security headers, for what a browser renders: the fire page and
 * its files. Register it in their context only. Our policy has no
 * per-request part (no nonces), so helmet runs once at start and each
 * response gets the same headers: running it per request, as
 * @fastify/helmet does, halved the throughput of a bare route here.
 */
export const pageHeaders = fp(async function pageHeaders (app: FastifyInstance, options: HelmetOptions) {
  const headers = helmetHeaders(options)
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(headers)
    done()
  })
}, { name: 'logfire-page-headers' })

/**
 * What an API answer needs: nosniff, so that no browser ever renders a JSON
 * answer (or an error echoing a client's input) as a page. The page's CSP,
 * HSTS, frame and cross-origin policies mean nothing on a body no browser
 * renders, and they were 650 of the 892 header bytes of a one-line POST.
 */
export const API_HEADERS = { 'x-content-type-options': 'nosniff' } as const
