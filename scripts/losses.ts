/*
 * npm run losses [-- --lines N] [-- --only syslog-ng|rsyslog|@fluent-org|fluent-logger|gelf-pro] [-- --fault <name>] [-- --quiet <s>]
 * (rsyslog includes omrelp; "--only rsyslog 8.2302 omrelp" runs it alone)
 * What each real shipper loses to each stream fault, counted on both sides:
 * for every shipper and fault, a fresh logfire with the shipper's listener;
 * N canary lines at 2,500 a second, written into a file the shipper tails
 * (syslog-ng, rsyslog) or emitted through the client library (Forward,
 * GELF); and a scenario that accepts some calm messages and then meets the
 * fault. Prints docs/shippers.md's table: lost and duplicated, as logfire's
 * scorecard counted them, and what the shipper itself reported (its stats,
 * or what the library told the application about each line).
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { setTimeout as sleep } from 'node:timers/promises'
import { fluentLoggerClient, fluentOrgClient, gelfProClient, type NodeClient } from '../test/e2e/shippers/node-clients.js'
import { omrelpMissing, paceCanary, rsyslogStreamMissing, settled, startRsyslogForward, startRsyslogRelp, startSyslogNgStream, syslogNgStreamMissing, writeCanary, type RsyslogShipper } from '../test/e2e/shippers/stream-shippers.js'
import { startListening } from '../test/listeners/listening.js'

const { values } = parseArgs({ options: { lines: { type: 'string', default: '3000' }, only: { type: 'string' }, quiet: { type: 'string' }, fault: { type: 'string' } } })
const LINES = Number(values.lines)
const RATE = 2500
// Done once nothing has arrived for this long: a shipper that resends after a back-off needs longer.
const QUIET_MS = Number(values.quiet ?? 3) * 1000

// Each fault meets the message after `calm` calm ones (#501 on a stream of lines; chunk #51 on Forward), or ten from there.
interface Fault { chaos: string, messages?: number }
const PLAIN_FAULTS: Record<string, Fault> = {
  'reset after #N': { chaos: 'reset' },
  'close (FIN) after #N': { chaos: 'close' },
  'reset-after-append on #N+1': { chaos: 'reset-after-append' },
  'stall 3 s after #N': { chaos: 'stall=3000' },
  'stall 3 s, then reset, after #N': { chaos: 'stall=3000, reset' }
}
const ACKED_FAULTS: Record<string, Fault> = {
  ...PLAIN_FAULTS,
  'nak for #N+1 to #N+10': { chaos: 'nak', messages: 10 },
  'ack-loss on #N+1': { chaos: 'ack-loss' }
}
const FORWARD_FAULTS: Record<string, Fault> = { ...ACKED_FAULTS, 'ack-wrong on #N+1': { chaos: 'ack-wrong' } }
// A datagram has no connection to fault: only the fire refuses it.
const DATAGRAM_FAULTS: Record<string, Fault> = { 'lp0 on fire for #N+1 to #N+10': { chaos: 'fire', messages: 10 } }

const label = (template: string, calm: number) => template.replace(/#N\+(\d+)/g, (_all, plus: string) => `#${calm + Number(plus)}`).replace('#N', `#${calm}`)

interface Shipper {
  /** Delivers the run's canary lines through the shipper, as they fall due. */
  send: (run: string, lines: number, rate: number) => Promise<void>
  report: () => Promise<string>
  stop: () => Promise<void>
}

type Listener = 'tcp' | 'relp' | 'forward' | 'gelf-tcp' | 'gelf-udp'

interface ShipperUnderTest {
  missing: string | undefined
  listener: Listener
  faults: Record<string, Fault>
  /** Calm messages before the fault: 500 lines, or 50 Forward chunks of about 20 events. */
  calm?: number
  /** How long nothing must arrive before the run is done: omrelp resends only after its action's resume interval (30 s). */
  quietMs?: number
  start: (port: number) => Promise<Shipper>
}

const SHIPPERS: Record<string, ShipperUnderTest> = {
  'syslog-ng 3.38 network() (LF)': { missing: syslogNgStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => syslogNg(`network("127.0.0.1" port(${port}) transport("tcp"))`) },
  'syslog-ng 3.38 syslog() (octet counting)': { missing: syslogNgStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => syslogNg(`syslog("127.0.0.1" port(${port}) transport("tcp"))`) },
  'rsyslog 8.2302 omfwd (traditional)': { missing: rsyslogStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => rsyslog(startRsyslogForward(port, 'traditional')) },
  'rsyslog 8.2302 omfwd (octet-counted)': { missing: rsyslogStreamMissing, listener: 'tcp', faults: PLAIN_FAULTS, start: async (port) => rsyslog(startRsyslogForward(port, 'octet-counted')) },
  'rsyslog 8.2302 omrelp (librelp 1.11)': { missing: omrelpMissing, listener: 'relp', faults: ACKED_FAULTS, quietMs: 45_000, start: async (port) => rsyslog(startRsyslogRelp(port)) },
  '@fluent-org/logger 1.0.10 (PackedForward, acks, 5 attempts)': { missing: undefined, listener: 'forward', faults: FORWARD_FAULTS, calm: 50, start: async (port) => library(fluentOrgClient(port)) },
  'fluent-logger 3.4.1 (PackedForward, requireAckResponse)': { missing: undefined, listener: 'forward', faults: FORWARD_FAULTS, calm: 50, start: async (port) => library(fluentLoggerClient(port)) },
  'gelf-pro 1.4.0 TCP (a connection per message)': { missing: undefined, listener: 'gelf-tcp', faults: PLAIN_FAULTS, start: async (port) => library(gelfProClient(port, 'tcp')) },
  'gelf-pro 1.4.0 UDP (zlib, chunked)': { missing: undefined, listener: 'gelf-udp', faults: DATAGRAM_FAULTS, start: async (port) => library(gelfProClient(port, 'udp')) }
}

/** A client library in this process: every line emitted, and what the library told the application about each. */
function library (client: NodeClient): Shipper {
  const told: Array<Promise<Error | undefined>> = []
  return {
    // Done when the library has told the application about every line: retries and back-offs included.
    send: async (run, lines, rate) => {
      await paceCanary(run, lines, rate, (due) => { for (const line of due) told.push(client.emit(line)) })
      await Promise.all(told)
    },
    report: async () => {
      const outcomes = await Promise.all(told)
      const errors = new Map<string, number>()
      for (const error of outcomes) if (error !== undefined) errors.set(error.name, (errors.get(error.name) ?? 0) + 1)
      const failed = [...errors].map(([name, count]) => `${count} ${name}`).join(', ')
      return `told the application: ${outcomes.length - [...errors.values()].reduce((sum, count) => sum + count, 0)} ok${failed === '' ? '' : `, ${failed}`}`
    },
    stop: client.stop
  }
}

async function syslogNg (destination: string): Promise<Shipper> {
  const shipper = await startSyslogNgStream(destination)
  return {
    send: async (run, lines, rate) => writeCanary(shipper.file, run, lines, rate),
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
    send: async (run, lines, rate) => writeCanary(shipper.file, run, lines, rate),
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

/** Datagrams the kernel dropped, machine-wide, because a socket's receive buffer was full (Linux: /proc/net/snmp). */
function udpReceiveBufferErrors (): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Udp:'))
  const [names, values] = lines.map((line) => line.split(/\s+/))
  return Number(values?.[names?.indexOf('RcvbufErrors') ?? -1] ?? 0)
}

async function measure (under: ShipperUnderTest, fault: Fault, run: string): Promise<string> {
  const on = (listener: Listener) => under.listener === listener ? 0 : undefined
  const l = await startListening({ streams: { syslogTcpPort: on('tcp'), syslogUdpPort: undefined, syslogTlsPort: undefined, relpPort: on('relp'), forwardPort: on('forward'), forwardSharedKey: undefined, gelfTcpPort: on('gelf-tcp'), gelfUdpPort: on('gelf-udp'), tls: undefined, maxConnections: 1024, idleMs: 3_600_000 } })
  let shipper: Shipper | undefined
  try {
    await l.app.inject({ method: 'PUT', url: `/scorecard/${run}` })
    await l.scenario([{ messages: under.calm ?? 500 }, { messages: fault.messages ?? 1, chaos: fault.chaos }])
    const kernelDropsBefore = udpReceiveBufferErrors()
    shipper = await under.start({ tcp: l.tcp, relp: l.relp, forward: l.forward, 'gelf-tcp': l.gelfTcp, 'gelf-udp': l.gelfUdp }[under.listener])
    await shipper.send(run, LINES, RATE)
    const report = await settled(l.app, run, values.quiet === undefined ? under.quietMs ?? QUIET_MS : QUIET_MS)
    const own = await shipper.report()
    const streams = await l.streams()
    // Connections ended by logfire, grouped by how: a nak for ten chunks is ten closes.
    const ended = new Map<string, { connections: number, discarded: number, cutBytes: number }>()
    for (const connection of streams.recent) {
      if (connection.endedBy === 'client' || connection.endedBy === 'client-reset') continue
      const sum = ended.get(connection.endedBy ?? '?') ?? { connections: 0, discarded: 0, cutBytes: 0 }
      ended.set(connection.endedBy ?? '?', { connections: sum.connections + 1, discarded: sum.discarded + connection.discarded, cutBytes: sum.cutBytes + connection.cutBytes })
    }
    const cut = [...ended].map(([how, sum]) => `${how}${sum.connections > 1 ? ` ×${sum.connections}` : ''}: ${sum.discarded} discarded, ${sum.cutBytes} B cut`)
    const unanswered = [...streams.live, ...streams.recent].reduce((sum, connection) => sum + connection.unacknowledged, 0)
    if (unanswered > 0) cut.push(`${unanswered} stored without an answer`)
    if (under.listener === 'gelf-udp') cut.push(`${streams.udp.datagrams} datagrams received; the kernel dropped ${udpReceiveBufferErrors() - kernelDropsBefore} for a full receive buffer`)
    // The faults as the scorecard met them: GET /streams keeps only the last 100 connections.
    const met = Object.entries(report.chaos).map(([outcome, count]) => `${outcome}${count > 1 ? ` ×${count}` : ''}`).join(', ')
    return `${LINES - report.unique} | ${report.duplicates} | ${own} | ${met || 'none'} | ${cut.join('; ') || 'no cut'}`
  } finally {
    await shipper?.stop()
    await l.close()
  }
}

console.log(`losses: ${LINES} lines at ${RATE}/s per run; the fault meets the connection after 500 messages (Forward: 50 chunks); done once nothing arrived for ${QUIET_MS / 1000} s (omrelp: 45 s, past its resume interval), and a client library has answered for every line\n`)
console.log('| shipper | fault | lost | duplicated | what the shipper reported | faults met | what logfire saw cut |')
console.log('| --- | --- | ---: | ---: | --- | --- | --- |')
let n = 0
for (const [name, shipper] of Object.entries(SHIPPERS)) {
  if (values.only !== undefined && !name.toLowerCase().startsWith(values.only)) continue
  if (shipper.missing !== undefined) {
    console.log(`| ${name} | (not run: ${shipper.missing}) | | | | | |`)
    continue
  }
  for (const [faultName, fault] of Object.entries(shipper.faults)) {
    if (values.fault !== undefined && !faultName.startsWith(values.fault)) continue
    console.log(`| ${name} | ${label(faultName, shipper.calm ?? 500)} | ${await measure(shipper, fault, `losses-${++n}`)} |`)
  }
}
