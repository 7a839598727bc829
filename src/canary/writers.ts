import { createSocket } from 'node:dgram'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { hostname } from 'node:os'
import { connect as connectTls } from 'node:tls'

/** Where the canary's lines go: what the shipper under test reads. */
export interface LineWriter {
  write: (line: string) => void | Promise<void>
  close: () => Promise<void>
}

/** The writer for a --to target; a stream target is connected first. */
export async function lineWriter (to: string, token: string | undefined): Promise<LineWriter> {
  if (to === 'stdout') return { write: (line) => { process.stdout.write(line + '\n') }, close: async () => {} }
  if (to.startsWith('file:')) {
    const file = createWriteStream(to.slice('file:'.length), { flags: 'a' })
    return {
      write: (line) => { file.write(line + '\n') },
      close: () => new Promise((resolve, reject) => { file.end((error?: Error | null) => { if (error) reject(error); else resolve() }) })
    }
  }
  if (to.startsWith('syslog+udp://')) return syslogWriter(new URL(to.replace('syslog+udp', 'udp')))
  if (to.startsWith('syslog+tcp://') || to.startsWith('syslog+tls://')) return await streamWriter(new URL(to.replace('syslog+', 'stream+')))
  return httpWriter(to, token)
}

// RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, user.info.
const host = hostname().replace(/\s/g, '') || '-'
const syslogMessage = (line: string): string => `<14>1 ${new Date().toISOString()} ${host} logfire-canary ${process.pid} - - ${line}`

function syslogWriter (url: URL): LineWriter {
  const socket = createSocket(url.hostname.includes(':') ? 'udp6' : 'udp4')
  return {
    write: (line) => new Promise((resolve) => {
      socket.send(syslogMessage(line), Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => { resolve() })
    }),
    close: () => new Promise((resolve) => { socket.close(() => { resolve() }) })
  }
}

// Octet-counted frames (RFC 6587, RFC 5425), over one connection. Like any
// plain-TCP shipper, it cannot know what a broken connection lost: the
// scorecard can.
async function streamWriter (url: URL): Promise<LineWriter> {
  const options = { host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) }
  const socket: Socket = url.protocol === 'stream+tls:' ? connectTls({ ...options, servername: options.host }) : connect(options)
  let failed: Error | undefined
  socket.on('error', (error) => { failed = error })
  await once(socket, url.protocol === 'stream+tls:' ? 'secureConnect' : 'connect')
  return {
    write: async (line) => {
      if (failed !== undefined) return
      const message = Buffer.from(syslogMessage(line))
      if (!socket.write(`${message.length} ${message.toString()}`)) await Promise.race([once(socket, 'drain'), once(socket, 'close')])
    },
    // Once handed to the kernel, the bytes are the kernel's to deliver: a
    // slow sink must not hold the canary's exit after its verdict.
    close: () => new Promise((resolve) => { socket.end(() => { socket.unref(); resolve() }) })
  }
}

// Straight to logfire: a refused line is the sink's doing, and counts as such.
function httpWriter (url: string, token: string | undefined): LineWriter {
  const pending = new Set<Promise<void>>()
  return {
    write: (line) => {
      const sent = fetch(url, { method: 'POST', body: line, headers: { 'content-type': 'text/plain', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } })
        .then(async (response) => { await response.arrayBuffer() })
        // A reset, or an answer no client can read (garbage), is the sink's doing too.
        .catch(() => {})
        .finally(() => { pending.delete(sent) })
      pending.add(sent)
    },
    close: async () => { await Promise.all(pending) }
  }
}
