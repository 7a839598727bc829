// A second baseline: the work a one-line POST cannot skip, in a bare
// Fastify 5 route with its logger off. The body read as bytes and parsed as
// logfire parses it, the line hashed onto an in-memory chain and stored, and
// the answer logfire gives (the stored block, the request's headers). Next to
// bare.mjs it says what that work costs; next to logfire, what everything
// else does (the chaos, the token, the hooks, logging).
import Fastify from 'fastify'
import { MemoryBackend } from '../../dist/chain/backend.js'
import { Chain } from '../../dist/chain/chain.js'
import { ChainStore } from '../../dist/chain/store.js'
import { bodyToEntries } from '../../dist/ingest/body.js'

const limits = { maxBodyBytes: 1024 * 1024, maxEntryBytes: 64 * 1024 }
const app = Fastify({ logger: false, bodyLimit: limits.maxBodyBytes })
const chain = new Chain(new MemoryBackend(new ChainStore(), { maxBlocks: 1e9, maxBytes: 2 ** 40 }))
const END = Buffer.from(']}')
let requests = 0

app.removeAllContentTypeParsers()
const parse = (request, raw, done) => {
  try {
    done(null, bodyToEntries(raw, { contentType: request.headers['content-type'], contentEncoding: request.headers['content-encoding'] }, limits))
  } catch (error) {
    done(error)
  }
}
app.addContentTypeParser(/^/, { parseAs: 'buffer' }, parse)
app.addContentTypeParser('*', { parseAs: 'buffer' }, parse)
app.post('/logs', async (request, reply) => {
  const { slice, texts, length } = chain.append(request.body, Date.now())
  reply.type('application/json; charset=utf-8')
    .header('x-logfire-seed', 'core0baseline0seed')
    .header('x-logfire-request', String(++requests))
    .header('x-logfire-settings', 'fireRate=0; burnRate=0; gdpr=on; override=on')
    .header('x-content-type-options', 'nosniff')
  const start = `{"appended":${slice.count},"length":${length},"blocks":[`
  if (slice.byteLength <= 16 * 1024) return start + texts.join(',') + ']}'
  return Buffer.concat([Buffer.from(start), ...slice.parts, END])
})
app.get('/healthz', async () => ({ status: 'ok' }))

await app.listen({ port: Number(process.env.PORT ?? 29404), host: '127.0.0.1' })
