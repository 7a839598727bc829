import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { RUN_ID } from '../scorecard/token.js'

/** A mistake on the command line: exit 2, with the message. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const USAGE = `Usage: logfire canary --to <target> [options]

Writes numbered lines for a shipper to carry to logfire, then asks logfire
what arrived: lost, duplicated, reordered, how late, and what the chaos did.

Targets (--to):
  file:<path>               append to a file the shipper tails
  stdout                    write to standard output
  syslog+udp://host:port    RFC 5424 over UDP
  syslog+tcp://host:port    RFC 5424 over TCP, octet-counted (RFC 6587)
  syslog+tls://host:port    RFC 5424 over TLS (RFC 5425); a self-signed
                            certificate: NODE_EXTRA_CA_CERTS=cert.pem
  http://host:port/logs     POST each line (tests logfire itself)

Options:
  --rate <n>/s              lines per second (default 100/s)
  --count <n>               lines to write (default 1000), or
  --duration <s>            write for this long instead
  --size <bytes>            pad each line with filler to this size (default 0)
  --run <id>                the run's id: 1-64 of A-Z a-z 0-9 _ . - (default random)
  --logfire <url>           where to read the scorecard (default http://127.0.0.1:3000)
  --token <token>           LOGFIRE_READ_TOKEN / LOGFIRE_INGEST_TOKEN, when set;
                            or a fire's ingest token (lf_ing_...)
  --view-token <token>      a fire's view token (lf_view_...), to read its scorecard
  --new-fire                on an open instance: create a fire, run against it
                            (--to http://.../logs), and print its page's address
  --settle <s>              done once no line has arrived for this long (default 10)
  --deadline <s>            wait no longer than this for stragglers (default 300);
                            lines still arriving then fail the run
  --max-lost <n>            fail when more lines are lost (default 0)
  --max-duplicates <n>      fail when more lines arrive twice or more
  --max-reordered <n>       fail when more lines arrive after a later one
  --max-p99-ms <ms>         fail when the 99th percentile of latency is above
  --json                    print the verdict as JSON

Exit status: 0 when every threshold holds, 1 when one fails, 2 on a usage or
connection error.`

const count = (name: string) => z.coerce.number({ error: `${name} must be a whole number` }).int({ error: `${name} must be a whole number` }).min(0, { error: `${name} must be 0 or more` })

const OPTIONS = z.object({
  to: z.string({ error: '--to is required' }).regex(/^(file:.+|stdout|syslog\+(udp|tcp|tls):\/\/[^/]+:\d+|https?:\/\/.+)$/, { error: '--to must be file:<path>, stdout, syslog+udp://host:port, syslog+tcp://host:port, syslog+tls://host:port or http://host:port/path' }),
  rate: z.string().regex(/^\d+(\.\d+)?(\/s)?$/, { error: '--rate must be a number of lines per second, e.g. 100/s' }).transform((rate) => Number(rate.replace('/s', ''))).refine((rate) => rate > 0, { error: '--rate must be above 0' }).default(100),
  count: count('--count').max(100_000_000).optional(),
  duration: z.coerce.number({ error: '--duration must be a number of seconds' }).positive({ error: '--duration must be above 0' }).optional(),
  size: count('--size').max(1_000_000).default(0),
  run: z.string().regex(RUN_ID, { error: '--run must be 1 to 64 of A-Z a-z 0-9 _ . -' }).optional(),
  logfire: z.url({ error: '--logfire must be a URL' }).default('http://127.0.0.1:3000'),
  token: z.string().optional(),
  'view-token': z.string().optional(),
  'new-fire': z.boolean().default(false),
  settle: z.coerce.number({ error: '--settle must be a number of seconds' }).min(0, { error: '--settle must be 0 or more' }).default(10),
  deadline: z.coerce.number({ error: '--deadline must be a number of seconds' }).min(0, { error: '--deadline must be 0 or more' }).default(300),
  'max-lost': count('--max-lost').default(0),
  'max-duplicates': count('--max-duplicates').optional(),
  'max-reordered': count('--max-reordered').optional(),
  'max-p99-ms': count('--max-p99-ms').optional(),
  json: z.boolean().default(false)
})

export interface CanaryOptions {
  to: string
  rate: number
  /** Lines to write; with --duration, rate × duration. */
  count: number
  size: number
  run: string
  logfire: string
  token: string | undefined
  /** Reads the scorecard, when it needs another token than writes do (a fire's view token). */
  viewToken: string | undefined
  /** Create a fire first, and run against it. */
  newFire: boolean
  /** Done once nothing has arrived for this long. */
  settleMs: number
  /** Never waits longer than this for stragglers. */
  deadlineMs: number
  thresholds: { lost: number, duplicates?: number, reordered?: number, p99Ms?: number }
  json: boolean
}

export function parseCanaryOptions (args: string[]): CanaryOptions {
  let values: Record<string, unknown>
  try {
    const strings = ['to', 'rate', 'count', 'duration', 'size', 'run', 'logfire', 'token', 'view-token', 'settle', 'deadline', 'max-lost', 'max-duplicates', 'max-reordered', 'max-p99-ms']
    values = parseArgs({
      args,
      options: { ...Object.fromEntries(strings.map((name) => [name, { type: 'string' as const }])), json: { type: 'boolean' }, 'new-fire': { type: 'boolean' } },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const parsed = OPTIONS.safeParse(values)
  if (!parsed.success) throw new UsageError(parsed.error.issues.map((issue) => issue.message).join('; '))
  const o = parsed.data
  if (o.count !== undefined && o.duration !== undefined) throw new UsageError('give --count or --duration, not both')
  if (o['new-fire'] && (o.token !== undefined || o['view-token'] !== undefined)) throw new UsageError('--new-fire brings its own tokens: give neither --token nor --view-token')
  // The stream listeners feed the public fire only.
  if (o['new-fire'] && !/^https?:/.test(o.to)) throw new UsageError('--new-fire needs --to http://host:port/logs: a fire is fed over HTTP')
  return {
    to: o.to,
    rate: o.rate,
    count: o.count ?? (o.duration === undefined ? 1000 : Math.round(o.rate * o.duration)),
    size: o.size,
    run: o.run ?? randomBytes(4).toString('hex'),
    logfire: o.logfire.replace(/\/+$/, ''),
    token: o.token,
    viewToken: o['view-token'],
    newFire: o['new-fire'],
    settleMs: o.settle * 1000,
    deadlineMs: o.deadline * 1000,
    thresholds: { lost: o['max-lost'], duplicates: o['max-duplicates'], reordered: o['max-reordered'], p99Ms: o['max-p99-ms'] },
    json: o.json
  }
}
