// The baseline: a bare Fastify 5 server on the same Node, logger off. POST
// /logs answers a small JSON object; GET /logs sends a prepared JSON string
// of the same size as the chain being read (set with PUT /payload).
import Fastify from 'fastify'

const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 })
let payload = '[]'

app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body))
app.post('/logs', async () => ({ appended: 1, length: 2 }))
app.get('/logs', async (_request, reply) => reply.type('application/json; charset=utf-8').send(payload))
app.put('/payload', async (request) => {
  payload = request.body
  return { bytes: Buffer.byteLength(payload) }
})
app.get('/healthz', async () => ({ status: 'ok' }))

await app.listen({ port: Number(process.env.PORT ?? 29402), host: '127.0.0.1' })
