// npm run flood -- --url http://127.0.0.1:3000 [--bytes 1.5G] [--concurrency 4]
//
// Floods a running logfire with long lines (60 KB, 16 to a request, 4
// requests at a time) and fails (exit 1) unless every request is stored or
// burns the chain (200 or 410), a one-line POST made during the flood always
// answers within a second, and /healthz answers at the end. CI runs it
// against the image in a 512 MB and a 256 MB container.
import { parseArgs } from 'node:util'
import { flood } from './lib/flood.js'

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:3000' },
    bytes: { type: 'string', default: '1.5G' },
    concurrency: { type: 'string', default: '4' }
  }
})
const PROBE_MAX_MS = 1000
const UNITS: Record<string, number> = { '': 1, K: 1e3, M: 1e6, G: 1e9 }
const size = /^(\d+(?:\.\d+)?)([KMG]?)$/i.exec(values.bytes)
if (size === null) {
  console.error('usage: npm run flood -- --url URL [--bytes 1.5G] [--concurrency 4]')
  process.exit(2)
}
const bytes = Number(size[1]) * (UNITS[(size[2] ?? '').toUpperCase()] ?? 1)

const mb = (n: number) => (n / 1e6).toFixed(0)
console.log(`flood: ${mb(bytes)} MB of 60 KB lines to ${values.url}, ${values.concurrency} requests at a time`)
const result = await flood({
  url: values.url,
  bytes,
  concurrency: Number(values.concurrency),
  progress: (sent) => console.log(`flood: ${mb(sent)} MB sent`)
})
const health = await fetch(`${values.url}/healthz`).then((response) => response.status, (error: unknown) => String(error))

console.log(`flood: ${result.requests} requests, ${mb(result.bytes)} MB in ${result.seconds.toFixed(1)} s; statuses ${JSON.stringify(result.statuses)}`)
console.log(`flood: slowest one-line POST during the flood ${result.probeMaxMs.toFixed(0)} ms (of ${result.probes}); /healthz ${health}`)
const problems = [
  ...result.failures,
  ...(result.probeMaxMs > PROBE_MAX_MS ? [`a one-line POST took ${result.probeMaxMs.toFixed(0)} ms, over ${PROBE_MAX_MS} ms`] : []),
  ...(health === 200 ? [] : [`/healthz answered ${health}`])
]
for (const problem of problems) console.error(`flood: FAILED: ${problem}`)
process.exit(problems.length === 0 ? 0 : 1)
