import type { FastifyPluginAsync } from 'fastify'
import { z } from 'zod'
import { readGuard } from '../http/token-guard.js'
import { documented, optionalToken } from '../http/responses.js'
import type { StreamListeners } from './listeners.js'
import { OPERATOR_ONLY } from '../http/operator.js'

const connection = z.object({
  id: z.number().int(),
  protocol: z.string(),
  remote: z.string(),
  openedAt: z.number(),
  closedAt: z.number().optional(),
  bytesRead: z.number().int(),
  messages: z.number().int().describe('Whole messages framed: syslog messages, RELP syslog frames'),
  stored: z.number().int().describe('Entries stored'),
  refused: z.object({ lp0: z.number().int(), gdpr: z.number().int(), burn: z.number().int(), nak: z.number().int(), token: z.number().int().describe('Open mode: a fire\'s token that opens no fire (unknown, gone out, not an ingest token)') })
    .describe('Entries refused by logfire: a plain stream drops them, RELP answers rsp 500'),
  unacknowledged: z.number().int().describe('On RELP: entries stored whose rsp was withheld (ack-loss) or cut off (reset-after-append)'),
  faults: z.record(z.string(), z.number().int()).describe('Stream faults met, by name'),
  discarded: z.number().int().describe('Whole messages read but never stored: the connection was cut before their turn'),
  cutBytes: z.number().int().describe('Bytes of an unfinished frame when the connection ended: never stored'),
  endedBy: z.string().optional().describe('client, client-reset, reset, reset-after-append, close, "stall, reset", hang, idle, frame-too-long, bad-octet-count, bad-frame, shutdown, store-unavailable')
})

const streamsView = z.object({
  listeners: z.array(z.object({ protocol: z.string(), port: z.number().int() })).describe('The listeners that are on'),
  live: z.array(connection),
  recent: z.array(connection).describe('The last 100 connections that ended, oldest first'),
  udp: z.object({ datagrams: z.number().int(), bytes: z.number().int() }),
  gelfChunks: z.object({
    pending: z.number().int().describe('Chunked GELF messages being reassembled'),
    expired: z.number().int().describe('Dropped: their chunks took longer than 5 s'),
    evicted: z.number().int().describe('Dropped: 1,000 messages or 8 MiB of chunks were pending'),
    invalid: z.number().int().describe('Chunks with a count of 0 or over 128, a sequence past the count, or a count that changed'),
    duplicates: z.number().int().describe('Chunks that came twice')
  }),
  refused: z.object({
    connections: z.number().int().describe('Closed at once: LOGFIRE_MAX_STREAM_CONNECTIONS were open'),
    oversizedDatagrams: z.number().int().describe('Over LOGFIRE_MAX_ENTRY_BYTES')
  })
})

/** GET /streams: the stream listeners, their live and recent connections, and what each counted. */
export const streamsRoutes: FastifyPluginAsync<{ listeners: StreamListeners, readToken: string | undefined }> = async (app, options) => {
  const { listeners } = options
  app.get('/streams', {
    config: OPERATOR_ONLY,
    onRequest: readGuard(options.readToken),
    schema: {
      tags: ['chain'],
      summary: 'The stream listeners and their connections',
      description: 'Syslog over TCP, UDP and TLS, RELP, Forward and GELF: per connection, the bytes read, messages stored and refused, faults met, and what a cut left unstored.',
      security: optionalToken('readBearer'),
      response: { 200: documented(streamsView, 'The listeners and their connections') }
    }
  }, async () => ({
    listeners: listeners.enabled,
    live: listeners.live.map((live) => live.report),
    recent: [...listeners.recent],
    udp: listeners.udp,
    gelfChunks: { pending: listeners.gelfChunks.pending, ...listeners.gelfChunks.counts },
    refused: listeners.refused
  }))
}
