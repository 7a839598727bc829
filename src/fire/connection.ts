import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'

/*
 * The endings of a request that no status code can express, done to its
 * socket. What the client sees is what a dying network or sink gives it.
 */

/** A TCP RST (SO_LINGER 0): the client reads ECONNRESET. */
export function resetConnection (socket: Socket): void {
  socket.resetAndDestroy()
}

/** A plain FIN with nothing sent: the client reads EOF, zero bytes. */
export function closeConnection (socket: Socket): void {
  socket.destroy()
}

// A 200 status line, then a chunk whose size is not hexadecimal: every HTTP
// client's parser fails on it after having seen the status.
const GARBAGE = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n' +
  '8\r\n{"append\r\nlp0 on fire\r\n\r\n'
)

/** A 200 with a broken chunked body, then the connection closes. */
export function sendGarbage (socket: Socket): void {
  socket.end(GARBAGE, () => { socket.destroy() })
}

/** Reads the request body to its end and throws it away; resolves false if the connection died first. */
export function drainBody (body: Readable): Promise<boolean> {
  return new Promise((resolve) => {
    if (body.readableEnded) {
      resolve(true)
      return
    }
    body.once('end', () => { resolve(true) })
    body.once('close', () => { resolve(body.readableEnded) })
    body.once('error', () => { resolve(false) })
    body.resume()
  })
}
