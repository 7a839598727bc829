// The cost ledger's server: logfire from dist/, configured from the
// environment as server.ts does, logging as server.ts does (JSON lines in
// 4 KiB batches), with the steps WITHOUT names left out (metrics,
// scorecard, alerts). Both sides of each ledger row run this same file.
import { pino } from 'pino'
import { buildApp } from '../../dist/app.js'
import { loadConfig } from '../../dist/config.js'
import { batchedDestination } from '../../dist/log-destination.js'

const config = loadConfig(process.env)
const without = (process.env.WITHOUT ?? '').split(',').filter(Boolean)
const logger = pino({ level: config.logLevel }, batchedDestination())
const app = await buildApp({
  config,
  logger,
  without: without.filter((step) => step !== 'alerts'),
  ...(without.includes('alerts') ? { alerting: { rules: [], outputs: {} } } : {})
})
await app.listen({ port: config.port, host: '127.0.0.1' })
process.on('SIGTERM', () => { app.close().then(() => process.exit(0)) })
