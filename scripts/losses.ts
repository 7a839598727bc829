/*
 * npm run losses [-- --lines N] [-- --only syslog-ng|rsyslog]
 * What each real shipper loses to each stream fault, counted on both sides:
 * for every shipper and fault, a fresh logfire with its syslog listener, a
 * shipper tailing a file, N canary lines written into it at 2,500 a second,
 * and a scenario that accepts 500 messages and then meets the fault. Prints
 * docs/shippers.md's table: lost and duplicated, as logfire's scorecard
 * counted them, and what the shipper itself reported.
 */
import { appendFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import type { RunReport } from '../src/scorecard/run-score.js'
import { canaryLine } from '../src/scorecard/token.js'
import { rsyslogStreamMissing, startRsyslogForward, startSyslogNgStream, syslogNgStreamMissing } from '../test/e2e/shippers/stream-shippers.js'
import { startListening, type Listening } from '../test/listeners/listening.js'

const { values } = parseArgs({ options: { lines: { type: 'string', default: '3000' }, only: { type: 'string' } } })
const LINES = Number(values.lines)
const RATE = 2500
const QUIET_MS = 3000

const FAULTS = {
  'reset after #500': 'reset',
  'close (FIN) after #500': 'close',
  'reset-after-append on #501': 'reset-after-append',
  'stall 3 s after #500': 'stall=3000',
  'stall 3 s, then reset, after #500': 'stall=3000, reset'
}

interface Shipper { file: string, report: () => Promise<string>, stop: () => Promise<void> }

const SHIPPERS: Record<string, { missing: string | undefined, start: (port: number) => Promise<Shipper> }> = {
  'syslog-ng 3.38 network() (LF)': { missing: syslogNgStreamMissing, start: async (port) => syslogNg(`network("127.0.0.1" port(${port}) transport("tcp"))`) },
  'syslog-ng 3.38 syslog() (octet counting)': { missing: syslogNgStreamMissing, start: async (port) => syslogNg(`syslog("127.0.0.1" port(${port}) transport("tcp"))`) },
  'rsyslog 8.2302 omfwd (traditional)': { missing: rsyslogStreamMissing, start: async (port) => rsyslog(port, 'traditional') },
  'rsyslog 8.2302 omfwd (octet-counted)': { missing: rsyslogStreamMissing, start: async (port) => rsyslog(port, 'octet-counted') }
}

async function syslogNg (destination: string): Promise<Shipper> {
  const shipper = await startSyslogNgStream(destination)
  return {
    file: shipper.file,
    report: async () => {
      const { written, dropped, queued } = await shipper.stats()
      return `written ${written ?? '?'}, dropped ${dropped ?? '?'}, queued ${queued ?? '?'}`
    },
    stop: shipper.stop
  }
}

async function rsyslog (port: number, framing: 'traditional' | 'octet-counted'): Promise<Shipper> {
  const shipper = await startRsyslogForward(port, framing)
  return {
    file: shipper.file,
    report: async () => {
      await sleep(1200) // impstats writes every second
      const { processed, failed, suspended } = shipper.stats()
      const closed = (shipper.stderr.match(/2027/g) ?? []).length
      return `processed ${processed ?? '?'}, failed ${failed ?? '?'}, suspended ${suspended ?? '?'}${closed > 0 ? `; logged "remote server closed connection" ×${closed}` : ''}`
    },
    stop: shipper.stop
  }
}

async function settled (l: Listening, run: string): Promise<RunReport> {
  let last = -1
  let since = Date.now()
  for (;;) {
    const report = (await l.app.inject({ url: `/scorecard/${run}` })).json() as RunReport
    if (report.delivered !== last) {
      last = report.delivered
      since = Date.now()
    } else if (Date.now() - since >= QUIET_MS) {
      return report
    }
    await sleep(200)
  }
}

async function measure (start: (port: number) => Promise<Shipper>, chaos: string, run: string): Promise<string> {
  const l = await startListening({ streams: { syslogTcpPort: 0, syslogUdpPort: undefined, syslogTlsPort: undefined, relpPort: undefined, tls: undefined, maxConnections: 64, idleMs: 3_600_000 } })
  let shipper: Shipper | undefined
  try {
    await l.app.inject({ method: 'PUT', url: `/scorecard/${run}` })
    await l.scenario([{ messages: 500 }, { messages: 1, chaos }])
    shipper = await start(l.tcp)
    const began = Date.now()
    for (let seq = 1; seq <= LINES;) {
      const due = Math.min(LINES, Math.floor((Date.now() - began) / 1000 * RATE) + 1)
      const lines: string[] = []
      for (; seq <= due; seq++) lines.push(canaryLine(run, seq, Date.now(), 200))
      if (lines.length > 0) appendFileSync(shipper.file, lines.map((line) => line + '\n').join(''))
      await sleep(10)
    }
    const report = await settled(l, run)
    const own = await shipper.report()
    const cut = (await l.streams()).recent.filter((connection) => connection.endedBy !== 'client').map((connection) => `${connection.endedBy}: ${connection.discarded} discarded, ${connection.cutBytes} B cut`)
    return `${LINES - report.unique} | ${report.duplicates} | ${own} | ${cut.join('; ') || 'no cut'}`
  } finally {
    await shipper?.stop()
    await l.close()
  }
}

console.log(`losses: ${LINES} lines at ${RATE}/s per run; the fault meets the connection after 500 messages\n`)
console.log('| shipper | fault | lost | duplicated | what the shipper reported | what logfire saw cut |')
console.log('| --- | --- | ---: | ---: | --- | --- |')
let n = 0
for (const [name, shipper] of Object.entries(SHIPPERS)) {
  if (values.only !== undefined && !name.toLowerCase().startsWith(values.only)) continue
  if (shipper.missing !== undefined) {
    console.log(`| ${name} | (not run: ${shipper.missing}) | | | | |`)
    continue
  }
  for (const [fault, chaos] of Object.entries(FAULTS)) {
    console.log(`| ${name} | ${fault} | ${await measure(shipper.start, chaos, `losses-${++n}`)} |`)
  }
}
