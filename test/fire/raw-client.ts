import { connect } from 'node:net'

/** What a client saw of one exchange, byte for byte, and how the connection ended. */
export interface Exchange {
  bytes: Buffer
  /**
   * `reset`: ECONNRESET; `eof`: the server closed (FIN); `cut`: the client
   * gave up after `waitMs`; `head`: the client hung up once the answer's head
   * was in (`untilHead`).
   */
  ending: 'reset' | 'eof' | 'cut' | 'head'
  /** From the request's first byte to the connection's end. */
  ms: number
  /** From the request's first byte to the answer's first byte; undefined when none came. */
  firstByteMs: number | undefined
  /** Times at which each chunk of the answer arrived. */
  chunkTimes: number[]
  /** When the client's last byte of body had been taken by the kernel. */
  uploadedMs: number
}

export interface RawRequest {
  method?: string
  path?: string
  body?: string | Buffer
  headers?: Record<string, string>
  /** The client hangs up after this long. */
  waitMs?: number
  /** The client hangs up once the answer's status line and headers are in: for answers that never end (event streams). */
  untilHead?: boolean
}

/**
 * One HTTP/1.1 request on a fresh TCP connection, written and read as raw
 * bytes: the only way to see a reset, an EOF or a broken body as a shipper's
 * socket does, without an HTTP client's interpretation in between.
 */
export function exchange (port: number, request: RawRequest = {}): Promise<Exchange> {
  const body = typeof request.body === 'string' ? Buffer.from(request.body) : request.body ?? Buffer.from('a line\n')
  const headers = { host: '127.0.0.1', 'content-length': String(body.length), connection: 'close', ...request.headers }
  const head = `${request.method ?? 'POST'} ${request.path ?? '/logs'} HTTP/1.1\r\n` +
    Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('') + '\r\n'
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const chunkTimes: number[] = []
    let start = 0
    let uploadedMs = NaN
    let settled = false
    const finish = (ending: Exchange['ending']) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      const ms = performance.now() - start
      resolve({ bytes: Buffer.concat(chunks), ending, ms, firstByteMs: chunkTimes[0], chunkTimes, uploadedMs })
    }
    const timer = setTimeout(() => { finish('cut'); socket.destroy() }, request.waitMs ?? 15_000)
    socket.on('connect', async () => {
      start = performance.now()
      socket.write(head)
      // In pieces, so the moment the kernel took the last one says how fast the server read.
      for (let at = 0; at < body.length && !socket.destroyed; at += 64 * 1024) {
        const piece = body.subarray(at, at + 64 * 1024)
        const last = at + piece.length >= body.length
        const flushed = socket.write(piece, () => { if (last) uploadedMs = performance.now() - start })
        if (!flushed) await new Promise((resolve) => { socket.once('drain', resolve); socket.once('close', resolve) })
      }
      if (body.length === 0) uploadedMs = 0
    })
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      chunkTimes.push(performance.now() - start)
      if (request.untilHead === true && Buffer.concat(chunks).includes('\r\n\r\n')) {
        finish('head')
        socket.destroy()
      }
    })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') finish('reset')
      else if (!settled) { settled = true; clearTimeout(timer); reject(error) }
    })
    socket.on('close', () => { finish('eof') })
  })
}

/** The status code of an answer's bytes; undefined when there is no status line. */
export function statusOf (bytes: Buffer): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3}) /.exec(bytes.subarray(0, 20).toString('latin1'))
  return match === null ? undefined : Number(match[1])
}

/** The body of an answer's bytes, its chunked framing undone (as far as it goes). */
export function bodyOf (bytes: Buffer): string {
  const text = bytes.toString('latin1')
  const split = text.indexOf('\r\n\r\n')
  if (split === -1) return ''
  const head = text.slice(0, split).toLowerCase()
  let rest = text.slice(split + 4)
  if (!head.includes('transfer-encoding: chunked')) return Buffer.from(rest, 'latin1').toString('utf8')
  let body = ''
  for (;;) {
    const line = rest.indexOf('\r\n')
    const size = parseInt(rest.slice(0, line), 16)
    if (line === -1 || !(size > 0)) break
    body += rest.slice(line + 2, line + 2 + size)
    rest = rest.slice(line + 2 + size + 2)
  }
  return Buffer.from(body, 'latin1').toString('utf8')
}
