import { createSocket } from 'node:dgram'
import { createWriteStream } from 'node:fs'
import { hostname } from 'node:os'

/** Where the canary's lines go: what the shipper under test reads. */
export interface LineWriter {
  write: (line: string) => void | Promise<void>
  close: () => Promise<void>
}

/** The writer for a --to target. */
export function lineWriter (to: string, token: string | undefined): LineWriter {
  if (to === 'stdout') return { write: (line) => { process.stdout.write(line + '\n') }, close: async () => {} }
  if (to.startsWith('file:')) {
    const file = createWriteStream(to.slice('file:'.length), { flags: 'a' })
    return {
      write: (line) => { file.write(line + '\n') },
      close: () => new Promise((resolve, reject) => { file.end((error?: Error | null) => { if (error) reject(error); else resolve() }) })
    }
  }
  if (to.startsWith('syslog+udp://')) return syslogWriter(new URL(to.replace('syslog+udp', 'udp')))
  return httpWriter(to, token)
}

// RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, user.info.
function syslogWriter (url: URL): LineWriter {
  const socket = createSocket(url.hostname.includes(':') ? 'udp6' : 'udp4')
  const host = hostname().replace(/\s/g, '') || '-'
  return {
    write: (line) => new Promise((resolve) => {
      socket.send(`<14>1 ${new Date().toISOString()} ${host} logfire-canary ${process.pid} - - ${line}`, Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => { resolve() })
    }),
    close: () => new Promise((resolve) => { socket.close(() => { resolve() }) })
  }
}

// Straight to logfire: a refused line is the sink's doing, and counts as such.
function httpWriter (url: string, token: string | undefined): LineWriter {
  const pending = new Set<Promise<void>>()
  return {
    write: (line) => {
      const sent = fetch(url, { method: 'POST', body: line, headers: { 'content-type': 'text/plain', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) } })
        .then(async (response) => { await response.arrayBuffer() }, () => {})
        .finally(() => { pending.delete(sent) })
      pending.add(sent)
    },
    close: async () => { await Promise.all(pending) }
  }
}
