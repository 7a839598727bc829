// npm run scorecards: what each library shipper delivers through logfire's
// chaos, counted by the scorecard, for docs/shippers.md. Each shipper logs
// 1,000 canary lines at 200 a second from this process into a logfire
// started for it (the built dist/server.js, on loopback), under the default
// chaos and under hostile-network; then the verdict is read as the canary
// reads it. Takes a few minutes: a lossy run waits out its settle time.
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { createWriteStream } from 'pino-http-send'
import { Logger as SplunkLogger } from 'splunk-logging'
import winston from 'winston'
import LokiTransport from 'winston-loki'
import { scorecard, settle } from '../src/canary/canary.js'
import { verdictOf } from '../src/canary/verdict.js'
import { canaryLine } from '../src/scorecard/token.js'
import { startServer, stop } from './lib/processes.js'

const LINES = 1000
const RATE = 200
const SETTLE_MS = 60_000
const PORT = 39_451

type Shipper = (base: string) => { log: (line: string) => void, close: () => Promise<void> | void }

const SHIPPERS: Record<string, Shipper> = {
  'winston Http': (base) => {
    const url = new URL(base)
    const logger = winston.createLogger({ transports: [new winston.transports.Http({ host: url.hostname, port: Number(url.port), path: '/logs' })] })
    logger.on('error', () => {})
    return { log: (line) => logger.info(line), close: () => { logger.close() } }
  },
  'pino-http-send (retries 5, 1 s apart)': (base) => {
    const logger = pino(createWriteStream({ url: `${base}/logs`, bodyType: 'json', batchSize: 10, timeout: 100, retries: 5, interval: 1000, silent: true }))
    return { log: (line) => logger.info(line), close: () => {} }
  },
  'splunk-logging (batches of 10)': (base) => {
    const logger = new SplunkLogger({ token: 'unused', url: base, maxBatchCount: 10 })
    logger.error = () => {}
    return { log: (line) => logger.send({ message: line }), close: () => new Promise((resolve) => logger.flush(() => resolve())) }
  },
  'winston-loki (batching, 0.2 s)': (base) => {
    const transport = new LokiTransport({ host: base, json: true, batching: true, interval: 0.2, labels: { job: 'scorecard' }, onConnectionError: () => {} })
    const logger = winston.createLogger({ transports: [transport] })
    return { log: (line) => logger.info(line), close: () => { logger.close() } }
  }
}

const CHAOS: Record<string, Record<string, string>> = {
  'the defaults (lp0 5%, burn 2%)': {},
  'hostile-network': { LOGFIRE_CHAOS_PRESET: 'hostile-network' }
}

const rows: string[] = []
let n = 0
for (const [shipperName, shipper] of Object.entries(SHIPPERS)) {
  for (const [chaosName, env] of Object.entries(CHAOS)) {
    const run = `scorecard-${++n}`
    const server = await startServer('dist/server.js', PORT, { LOG_LEVEL: 'warn', LOGFIRE_RATE_LIMIT: '0', ...env })
    try {
      const access = { logfire: server.url, run, token: undefined, settleMs: SETTLE_MS, deadlineMs: 300_000 }
      await scorecard(access, 'PUT')
      const { log, close } = shipper(server.url)
      const began = performance.now()
      for (let seq = 1; seq <= LINES; seq++) {
        log(canaryLine(run, seq, Date.now()))
        const due = began + (1000 * seq) / RATE
        if (due > performance.now()) await sleep(due - performance.now())
      }
      await close()
      const { report, stillArriving } = await settle(access, LINES)
      const verdict = verdictOf(LINES, report, { run, thresholds: { lost: 0 } }, stillArriving)
      const chaos = Object.entries(verdict.chaos).map(([outcome, count]) => `${outcome} ×${count}`).join(', ')
      const refused = Object.entries(verdict.refusedLines).map(([status, count]) => `${count} lines refused with ${status}`).join(', ')
      rows.push(`| ${shipperName} | ${chaosName} | ${verdict.lost} | ${verdict.duplicated} | ${verdict.reordered} | ${verdict.latencyMs.p50} ms / ${verdict.latencyMs.p99} ms | ${[refused, chaos, `${verdict.burnedAfterDelivery} burned after delivery`].filter((part) => part !== '').join('; ')} |`)
      console.error(rows.at(-1))
    } finally {
      await stop(server)
    }
  }
}
console.log('| Shipper | chaos | lost | duplicated | reordered | latency p50 / p99 | the chaos it met |\n| --- | --- | --- | --- | --- | --- | --- |')
console.log(rows.join('\n'))
process.exit(0)
