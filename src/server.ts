import { readFileSync } from 'node:fs'
import closeWithGrace from 'close-with-grace'
import { pino } from 'pino'
import { loadRules, RulesFileError, type Alerting } from './alerts/load.js'
import { buildApp } from './app.js'
import { batchedDestination } from './log-destination.js'
import { ConfigError, containerMemoryLimit, loadConfig, type Config } from './config.js'
import { loadScenario, ScenarioError, type Scenario } from './scenario/document.js'

// The process edge: configuration, logger, listen, and a graceful exit.
// Everything else lives in buildApp.

let config: Config
let alerting: Alerting | undefined
let scenario: Scenario | undefined
let tls: { cert: Buffer, key: Buffer } | undefined
try {
  config = loadConfig(process.env, containerMemoryLimit())
  if (config.streams.tls !== undefined) tls = { cert: readPem('LOGFIRE_TLS_CERT', config.streams.tls.certFile), key: readPem('LOGFIRE_TLS_KEY', config.streams.tls.keyFile) }
  if (config.rulesFile !== undefined) alerting = loadRules(readRulesFile(config.rulesFile), config.rulesFile, process.env)
  if (config.scenario !== undefined) scenario = loadScenario(config.scenario, (file) => readFileSync(file, 'utf8'))
} catch (error) {
  if (!(error instanceof ConfigError) && !(error instanceof RulesFileError) && !(error instanceof ScenarioError)) throw error
  const kind = error instanceof RulesFileError ? 'invalid rules file: ' : error instanceof ScenarioError ? 'invalid scenario: ' : ''
  process.stderr.write(`logfire: ${kind}${error.message}\n`)
  process.exit(1)
}

function readPem (variable: string, file: string): Buffer {
  try {
    return readFileSync(file)
  } catch (error) {
    throw new ConfigError(`${variable}: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}

function readRulesFile (file: string): string {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    throw new RulesFileError(`LOGFIRE_RULES: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`)
  }
}

// Pretty for a person at a terminal, JSON lines for everything else, written
// out 4 KiB at a time and at least every quarter second. Lines still waiting
// at exit are written out by pino's exit handler.
const logger = process.stdout.isTTY
  ? pino({ level: config.logLevel, transport: { target: 'pino-pretty', options: { ignore: 'pid,hostname' } } })
  : pino({ level: config.logLevel }, batchedDestination())

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
const app = await buildApp({ config, logger, version, alerting, scenario })

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err !== undefined) logger.error({ err }, 'closing after an error')
  else logger.info({ signal }, 'closing: finishing requests in flight')
  await app.close()
  logger.flush()
})

// The budgets in effect, once: what the chain may hold before it burns.
logger.info({ memory: config.memory }, 'memory budget')
await app.listen({ port: config.port, host: config.host })
if (app.peers !== undefined && config.p2p.port !== undefined) {
  const port = await app.peers.listen(config.p2p.port, config.host)
  logger.info({ p2p: { port, peers: config.p2p.peers.length } }, 'peer-to-peer listening')
  for (const url of config.p2p.peers) app.peers.dial(url)
}
const streams = await app.listeners.listen(config.host, tls)
if (streams.length > 0) logger.info({ listeners: streams }, 'stream listeners listening')
logger.flush() // "listening" now, not a quarter second later
