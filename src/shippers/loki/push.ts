import { z } from 'zod'
import { InvalidJson, LokiInvalidPush } from '../../errors.js'
import { utf8Text, type BodyFormat } from '../../ingest/body.js'

// Loki's JSON push body. A value is [timestamp in ns, line] with, since Loki
// 3, an optional object of structured metadata after them.
export const pushRequest = z.object({
  streams: z.array(z.object({
    stream: z.record(z.string(), z.string()).optional(),
    values: z.array(z.tuple([z.string(), z.string()], z.unknown()))
  }))
})

/** One entry per log line, streams in order and values in order within each. */
export function lokiEntries (text: string): string[] {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new InvalidJson((error as Error).message)
  }
  const parsed = pushRequest.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue
    throw new LokiInvalidPush(`${issue.path.join('.') || 'body'}: ${issue.message}`)
  }
  return parsed.data.streams.flatMap((stream) => stream.values.map((value) => value[1]))
}

// Loki's default is protobuf with snappy, which clients switch off with a
// JSON mode (winston-loki's json: true, Promtail's JSON push).
export const lokiPushFormat: BodyFormat = { accepts: "send Loki's JSON push format", entries: (body) => lokiEntries(utf8Text(body)) }
