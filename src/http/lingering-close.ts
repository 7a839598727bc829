import type { Socket } from 'node:net'

/** How much of a refused body is read and thrown away, at most, before the connection is cut. */
export const LINGER_MAX_BYTES = 256 * 1024 * 1024
/** How long, at most, and how long without a byte. nginx's lingering_time and lingering_timeout. */
export const LINGER_MAX_MS = 30_000
export const LINGER_IDLE_MS = 5_000

/**
 * A refusal sent before the body was read (413, 401, 503 LOGFIRE_BUSY...)
 * ends the connection, since the body will not be read for a request. But
 * closing the socket while the client is still sending makes the kernel
 * answer its next bytes with a reset, and the client gets EPIPE or
 * ECONNRESET instead of the refusal. So, as nginx does: after the answer,
 * half-close, and read and throw away what the client still sends, until
 * it is done or a bound in bytes or time is reached. Then close.
 */
export function lingerOnClose (socket: Socket): void {
  // Node calls this once the answer is written, instead of closing at once.
  socket.destroySoon = () => {
    socket.end()
    const began = Date.now()
    const from = socket.bytesRead
    let seen = from
    let lastByte = began
    // The HTTP parser reads the socket's handle directly, so no 'data' event says what came: its count does.
    const watch = setInterval(() => {
      const now = Date.now()
      if (socket.bytesRead !== seen) {
        seen = socket.bytesRead
        lastByte = now
      }
      if (seen - from > LINGER_MAX_BYTES || now - began > LINGER_MAX_MS || now - lastByte > LINGER_IDLE_MS) socket.destroy()
    }, 100)
    socket.once('close', () => { clearInterval(watch) })
    // The client has sent everything and read the answer: done.
    socket.once('end', () => { socket.destroy() })
    socket.resume()
  }
}
