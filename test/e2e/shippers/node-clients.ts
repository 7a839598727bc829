import { FluentClient } from '@fluent-org/logger'
import fluentLoggerPackage from 'fluent-logger'
import gelf from 'gelf-pro'

/*
 * The Node clients of the acked stream protocols, as an application would
 * set them up, each reduced to one call: emit a line, and learn what the
 * client told the application about it. The e2e tests and npm run losses
 * drive the same clients.
 */

export interface NodeClient {
  /** Resolves with the error the client reported for this line, or undefined for success. */
  emit: (line: string, fields?: Record<string, unknown>) => Promise<Error | undefined>
  stop: () => Promise<void>
}

const settle = (sending: Promise<unknown>): Promise<Error | undefined> => sending.then(() => undefined, (error: unknown) => error instanceof Error ? error : new Error(String(error)))

/** @fluent-org/logger: PackedForward, acks on, 20 events a chunk, every chunk resent until acknowledged (5 attempts). */
export function fluentOrgClient (port: number, sharedKey?: string, user?: { username: string, password: string }): NodeClient & { client: FluentClient } {
  const client = new FluentClient('app', {
    socket: { host: '127.0.0.1', port, timeout: 3000 },
    security: sharedKey === undefined ? undefined : { clientHostname: 'shipper', sharedKey, ...user },
    ack: { ackTimeout: 500 },
    eventRetry: { attempts: 5, delay: 100, backoff: 1 },
    flushInterval: 20,
    sendQueueIntervalFlushLimit: { length: 20 }
  })
  return {
    client,
    emit: (line, fields = {}) => settle(client.emit('test', { message: line, ...fields })),
    stop: () => client.disconnect().catch(() => {})
  }
}

/** fluent-logger: PackedForward with requireAckResponse; it never resends. Its callbacks say what it was told. */
export function fluentLoggerClient (port: number): NodeClient {
  const sender = fluentLoggerPackage.createFluentSender('app', {
    host: '127.0.0.1',
    port,
    timeout: 3.0,
    reconnectInterval: 100,
    requireAckResponse: true,
    ackResponseTimeout: 500,
    eventMode: 'PackedForward',
    flushInterval: 20,
    // Its errors reach the callbacks; its own console lines are noise here.
    internalLogger: { info: () => {}, error: () => {} }
  })
  ;(sender as unknown as { on: (event: string, listener: () => void) => void }).on('error', () => {})
  return {
    emit: (line, fields = {}) => new Promise((resolve) => { sender.emit('test', { message: line, ...fields }, (error?: Error) => { resolve(error ?? undefined) }) }),
    stop: async () => { (sender as unknown as { end: () => void }).end() }
  }
}

/** gelf-pro's logging call, which its typings leave out. */
interface GelfPro { info: (message: string, extra: Record<string, unknown>, done: (error: Error | null | undefined) => void) => void }

/** gelf-pro over UDP (zlib, its chunk header always added) or TCP (a connection per message). One transport at a time: gelf-pro keeps one adapter per process. */
export function gelfProClient (port: number, adapterName: 'udp' | 'tcp'): NodeClient {
  ;(gelf as unknown as { adapter: unknown }).adapter = undefined
  gelf.setConfig({ adapterName, adapterOptions: { host: '127.0.0.1', port } })
  return {
    emit: (line, fields = {}) => new Promise((resolve) => { (gelf as unknown as GelfPro).info(line, fields, (error) => { resolve(error ?? undefined) }) }),
    stop: async () => {}
  }
}
