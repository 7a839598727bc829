/*
 * npm run losses [-- --lines N] [-- --only syslog-ng|rsyslog] [-- --fault <name>] [-- --quiet <s>]
 * (rsyslog includes omrelp; "--only rsyslog 8.2302 omrelp" runs it alone)
 * What each real shipper loses to each stream fault, counted on both sides:
 * for every shipper and fault, a fresh logfire with its syslog listener, a
 * shipper tailing a file, N canary lines written into it at 2,500 a second,
 * and a scenario that accepts 500 messages and then meets the fault. Prints
 * docs/shippers.md's table: lost and duplicated, as logfire's scorecard
 * counted them, and what the shipper itself reported.
 */
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { omrelpMissing, rsyslogStreamMissing, settled, startRsyslogForward, startRsyslogRelp, startSyslogNgStream, syslogNgStreamMissing, writeCanary, type RsyslogShipper } from '../test/e2e/shippers/stream-shippers.js'
import { startListening } from '../test/listeners/listening.js'

const { values } = parseArgs({ options: { lines: { type: 'string', default: '3000' }, only: { type: 'string' }, quiet: { type: 'string' }, fault: { type: 'string' } } })
const LINES = Number(values.lines)
const RATE = 2500
// Done once nothing has arrived for this long: a shipper that resends after a back-off needs longer.
const QUIET_MS = Number(values.quiet ?? 3) * 1000

// Each fault meets message #501 (or #501 to #510), after 500 calm ones.
const PLAIN_FAULTS: Record<string, { chaos: string, messages?: number }> = {
  'reset after #500': { chaos: 'reset' },
  'close (FIN) after #500': { chaos: 'close' },
  'reset-after-append on #501': { chaos: 'reset-after-append' },
  'stall 3 s after #500': { chaos: 'stall=3000' },
  'stall 3 s, then reset, after #500': { chaos: 'stall=3000, reset' }
}
const ACKED_FAULTS: Record<string, { chaos: string, messages?: number }> = {
  ...PLAIN_FAULTS,
  'nak (rsp 500) for #501 to #510': { chaos: 'nak', messages: 10 },
  'ack-loss on #501': { chaos: 'ack-loss' }
}

interface Shipper { file: string, report: () => Promise<string>, stop: () => Promise<void> }

interface ShipperUnderTest {
  missing: string | undefined
  listener: 'tcp' | 'relp'
  faults: typeof PLAIN_FAULTS
  /** How long nothing must arrive before the run is done: omrelp resends only after its action's resume interval (30 s). */
  quietMs?: number
  start: (port: number) => Promise<Shipper>
}

const SHIPPERS: Record<string, ShipperUnderTest> = {
  'syslog-ng 3.38 network() (LF)': { missing: syslogNgStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => syslogNg(`network("127.0.0.1" port(${port}) transport("tcp"))`) },
  'syslog-ng 3.38 syslog() (octet counting)': { missing: syslogNgStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => syslogNg(`syslog("127.0.0.1" port(${port}) transport("tcp"))`) },
  'rsyslog 8.2302 omfwd (traditional)': { missing: rsyslogStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => rsyslog(startRsyslogForward(port, 'traditional')) },
  'rsyslog 8.2302 omfwd (octet-counted)': { missing: rsyslogStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => rsyslog(startRsyslogForward(port, 'octet-counted')) },
  'rsyslog 8.2302 omrelp (librelp 1.11)': { missing: omrelpMissing, listener: 'relp', faults: ACKED_FAULTS, quietMs: 45_000, start: async (port) => rsyslog(startRsyslogRelp(port)) }
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

async function rsyslog (starting: Promise<RsyslogShipper>): Promise<Shipper> {
  const shipper = await starting
  return {
    file: shipper.file,
    report: async () => {
      await sleep(1200) // impstats writes every second
      const { processed, failed, suspended } = shipper.stats()
      const closed = (shipper.stderr.match(/2027/g) ?? []).length
      const relpErrors = (shipper.stderr.match(/librelp error/g) ?? []).length
      return `processed ${processed ?? '?'}, failed ${failed ?? '?'}, suspended ${suspended ?? '?'}${closed > 0 ? `; logged "remote server closed connection" ×${closed}` : ''}${relpErrors > 0 ? `; logged a librelp error ×${relpErrors}` : ''}`
    },
    stop: shipper.stop
  }
}

async function measure (under: ShipperUnderTest, fault: { chaos: string, messages?: number }, run: string): Promise<string> {
  const l = await startListening({ streams: { syslogTcpPort: under.listener === 'tcp' ? 0 : undefined, syslogUdpPort: undefined, syslogTlsPort: undefined, relpPort: under.listener === 'relp' ? 0 : undefined, forwardPort: undefined, forwardSharedKey: undefined, gelfTcpPort: undefined, gelfUdpPort: undefined, tls: undefined, maxConnections: 64, idleMs: 3_600_000 } })
  let shipper: Shipper | undefined
  try {
    await l.app.inject({ method: 'PUT', url: `/scorecard/${run}` })
    await l.scenario([{ messages: 500 }, { messages: fault.messages ?? 1, chaos: fault.chaos }])
    shipper = await under.start(under.listener === 'tcp' ? l.tcp : l.relp)
    await writeCanary(shipper.file, run, LINES, RATE)
    const report = await settled(l.app, run, values.quiet === undefined ? under.quietMs ?? QUIET_MS : QUIET_MS)
    const own = await shipper.report()
    const streams = await l.streams()
    const cut = streams.recent.filter((connection) => connection.endedBy !== 'client').map((connection) => `${connection.endedBy}: ${connection.discarded} discarded, ${connection.cutBytes} B cut`)
    const unanswered = [...streams.live, ...streams.recent].reduce((sum, connection) => sum + connection.unacknowledged, 0)
    if (unanswered > 0) cut.push(`${unanswered} stored without an answer`)
    return `${LINES - report.unique} | ${report.duplicates} | ${own} | ${cut.join('; ') || 'no cut'}`
  } finally {
    await shipper?.stop()
    await l.close()
  }
}

console.log(`losses: ${LINES} lines at ${RATE}/s per run; the fault meets the connection after 500 messages; done once nothing arrived for ${QUIET_MS / 1000} s (omrelp: 45 s, past its resume interval)\n`)
console.log('| shipper | fault | lost | duplicated | what the shipper reported | what logfire saw cut |')
console.log('| --- | --- | ---: | ---: | --- | --- |')
let n = 0
for (const [name, shipper] of Object.entries(SHIPPERS)) {
  if (values.only !== undefined && !name.toLowerCase().startsWith(values.only)) continue
  if (shipper.missing !== undefined) {
    console.log(`| ${name} | (not run: ${shipper.missing}) | | | | |`)
    continue
  }
  for (const [faultName, fault] of Object.entries(shipper.faults)) {
    if (values.fault !== undefined && !faultName.startsWith(values.fault)) continue
    console.log(`| ${name} | ${faultName} | ${await measure(shipper, fault, `losses-${++n}`)} |`)
  }
}
