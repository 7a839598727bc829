import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type TLSSocket } from 'node:tls'
import type { HeldConnections } from '../fire/held.js'
import type { StreamProtocol } from '../fire/stream-faults.js'
import { StreamConnection, type ConnectionReport } from './connection.js'
import { syslogCodec, type StreamCodec } from './codec.js'
import { withoutTrailer } from './framing.js'
import { forwardCodec, HEARTBEAT } from './forward.js'
import type { ForwardHandshake } from './forward-handshake.js'
import { GelfChunks, gelfPayload, gelfTcpCodec } from './gelf.js'
import { relpCodec, RELP_MAX_DATA_BYTES } from './relp.js'
import type { Numbered, Routed, StreamIntake } from './intake.js'

/** Where each stream listener listens: a protocol is on when its port is set. */
export interface ListenerPorts {
  syslogTcp: number | undefined
  syslogUdp: number | undefined
  syslogTls: number | undefined
  relp: number | undefined
  forward: number | undefined
  gelfTcp: number | undefined
  gelfUdp: number | undefined
}

export interface ListenerOptions {
  ports: ListenerPorts
  intake: StreamIntake
  held: HeldConnections
  clock: () => number
  /** LOGFIRE_MAX_ENTRY_BYTES: a longer frame or datagram is refused. */
  maxMessageBytes: number
  /** LOGFIRE_MAX_BODY_BYTES: a longer Forward message (a chunk of many events) is refused. */
  maxChunkBytes: number
  /** LOGFIRE_FORWARD_SHARED_KEY: when set, a Forward client proves it holds the key before it is read. */
  forwardSharedKey: string | undefined
  /** Open mode: the Forward handshake asks for a username, where a fire's token selects the fire. */
  fireTokens: boolean
  /** What RELP's open answer names as relp_software. */
  software: string
  /** LOGFIRE_MAX_STREAM_CONNECTIONS: TCP and TLS together; past it, a new connection is closed at once. */
  maxConnections: number
  idleMs: number
  /** How long a TLS client has to finish its handshake. */
  handshakeMs: number
}

/** A listener that is on, and where it listens once it does. */
export interface ListenerView { protocol: StreamProtocol, port: number }

/** Closed connections GET /streams still shows. */
const RECENT = 100

/**
 * The stream listeners: syslog over TCP, UDP and TLS. Built with the app,
 * listening only when server.ts (or a test) says so, as the HTTP server is.
 */
export class StreamListeners {
  readonly #options: ListenerOptions
  readonly #live = new Set<StreamConnection>()
  readonly #recent: ConnectionReport[] = []
  readonly #servers: Array<Server | UdpSocket> = []
  readonly #bound = new Map<StreamProtocol, number>()
  #ids = 0
  // Sockets open on the TCP and TLS listeners, handshakes included.
  #open = 0
  readonly #timers: NodeJS.Timeout[] = []
  /** Chunked GELF datagrams being reassembled: bounded, and what was dropped, counted. */
  readonly gelfChunks: GelfChunks
  /** Connections closed at once for LOGFIRE_MAX_STREAM_CONNECTIONS; datagrams over the size limit. */
  readonly refused = { connections: 0, oversizedDatagrams: 0 }
  /** Per protocol: datagrams and bytes on UDP, where there is no connection to count them on. */
  readonly udp = { datagrams: 0, bytes: 0 }

  constructor (options: ListenerOptions) {
    this.#options = options
    // At most 128 chunks of a datagram each: 1,000 messages, 8 MiB, within GELF's 5 s.
    this.gelfChunks = new GelfChunks({ maxPending: 1000, maxBytes: 8 * 1024 * 1024, windowMs: 5000 }, options.clock)
  }

  /** The protocols that are configured, with their port: the bound one once listening. */
  get enabled (): ListenerView[] {
    const { ports } = this.#options
    const views: ListenerView[] = []
    const add = (protocol: StreamProtocol, port: number | undefined): void => {
      if (port !== undefined) views.push({ protocol, port: this.#bound.get(protocol) ?? port })
    }
    add('syslog-tcp', ports.syslogTcp)
    add('syslog-udp', ports.syslogUdp)
    add('syslog-tls', ports.syslogTls)
    add('relp', ports.relp)
    add('forward', ports.forward)
    add('gelf-tcp', ports.gelfTcp)
    add('gelf-udp', ports.gelfUdp)
    return views
  }

  get live (): readonly StreamConnection[] { return [...this.#live] }
  /** Messages by "protocol outcome", ever. */
  get totals (): ReadonlyMap<string, number> { return this.#options.intake.totals }
  get recent (): readonly ConnectionReport[] { return this.#recent }

  /** A Forward connection's handshake, when a shared key is set: a fresh nonce each time. */
  #handshake (): ForwardHandshake | undefined {
    const sharedKey = this.#options.forwardSharedKey
    // A fixed name: a client on the same machine refuses a server that has its own hostname.
    return sharedKey === undefined ? undefined : { sharedKey, nonce: randomBytes(16), hostname: 'logfire', ...(this.#options.fireTokens ? { authSalt: randomBytes(16).toString('hex') } : {}) }
  }

  /** Starts every configured listener on `host`; TLS needs its certificate and key (PEM). */
  async listen (host: string, tls?: { cert: Buffer | string, key: Buffer | string }): Promise<ListenerView[]> {
    const { ports, handshakeMs } = this.#options
    if (ports.syslogTcp !== undefined) {
      const server = createServer({ allowHalfOpen: true })
      await this.#bind(server, 'syslog-tcp', ports.syslogTcp, host, (socket) => { this.#accept(socket, 'syslog-tcp', syslogCodec('detect', this.#options.maxMessageBytes)) })
    }
    if (ports.syslogTls !== undefined) {
      if (tls === undefined) throw new Error('the syslog TLS listener needs a certificate and a key')
      const server = createTlsServer({ ...tls, allowHalfOpen: true, handshakeTimeout: handshakeMs }, (socket: TLSSocket) => { this.#accept(socket, 'syslog-tls', syslogCodec('octet-counting', this.#options.maxMessageBytes)) })
      // A failed or slow handshake is the client's problem, not the server's.
      server.on('tlsClientError', (_error, socket) => { socket.destroy() })
      await this.#bind(server, 'syslog-tls', ports.syslogTls, host, () => {})
    }
    if (ports.relp !== undefined) {
      const server = createServer({ allowHalfOpen: true })
      await this.#bind(server, 'relp', ports.relp, host, (socket) => { this.#accept(socket, 'relp', relpCodec(RELP_MAX_DATA_BYTES, this.#options.software)) })
    }
    if (ports.forward !== undefined) {
      const server = createServer({ allowHalfOpen: true })
      await this.#bind(server, 'forward', ports.forward, host, (socket) => { this.#accept(socket, 'forward', forwardCodec(this.#options.maxChunkBytes, this.#handshake())) })
      // The UDP heartbeat, on the same port: every datagram is answered with one byte 0x00.
      const heartbeat = createSocket(host.includes(':') ? 'udp6' : 'udp4')
      heartbeat.on('message', (_datagram, from) => { heartbeat.send(HEARTBEAT, from.port, from.address) })
      heartbeat.on('error', () => {})
      this.#servers.push(heartbeat)
      heartbeat.bind(this.#bound.get('forward'), host)
      await once(heartbeat, 'listening')
    }
    if (ports.gelfTcp !== undefined) {
      const server = createServer({ allowHalfOpen: true })
      await this.#bind(server, 'gelf-tcp', ports.gelfTcp, host, (socket) => { this.#accept(socket, 'gelf-tcp', gelfTcpCodec(this.#options.maxMessageBytes)) })
    }
    if (ports.syslogUdp !== undefined) {
      await this.#bindUdp('syslog-udp', ports.syslogUdp, host, (datagram) => {
        if (datagram.length > this.#options.maxMessageBytes) return undefined
        const message = withoutTrailer(datagram)
        return message.length === 0 ? undefined : message.toString('utf8')
      })
    }
    if (ports.gelfUdp !== undefined) {
      const chunks = this.gelfChunks
      const sweep = setInterval(() => { chunks.sweep() }, 1000)
      sweep.unref()
      this.#timers.push(sweep)
      await this.#bindUdp('gelf-udp', ports.gelfUdp, host, (datagram) => {
        const whole = GelfChunks.isChunk(datagram) ? chunks.add(datagram) : datagram
        if (whole === undefined) return undefined
        return gelfPayload(whole, this.#options.maxMessageBytes)?.toString('utf8')
      })
    }
    return this.enabled
  }

  /** A UDP listener: each datagram read into a message by `read` (undefined drops it, counted), then met by the fire. */
  async #bindUdp (protocol: StreamProtocol, port: number, host: string, read: (datagram: Buffer) => string | undefined): Promise<void> {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    socket.on('message', (datagram) => {
      this.udp.datagrams += 1
      this.udp.bytes += datagram.length
      const text = read(datagram)
      if (text === undefined) {
        if (datagram.length > this.#options.maxMessageBytes) this.refused.oversizedDatagrams += 1
        return
      }
      this.#datagram(text, protocol)
    })
    socket.on('error', () => {})
    this.#servers.push(socket)
    socket.bind(port, host)
    await once(socket, 'listening')
    this.#bound.set(protocol, socket.address().port)
  }

  async #bind (server: Server, protocol: StreamProtocol, port: number, host: string, accept: (socket: Socket) => void): Promise<void> {
    // Counted from the first byte, TLS's handshake included: a socket costs memory whether or not it ever speaks.
    server.on('connection', (socket: Socket) => {
      if (this.#open >= this.#options.maxConnections) {
        this.refused.connections += 1
        socket.destroy()
        return
      }
      this.#open += 1
      socket.once('close', () => { this.#open -= 1 })
      accept(socket)
    })
    this.#servers.push(server)
    server.listen(port, host)
    await once(server, 'listening')
    this.#bound.set(protocol, (server.address() as { port: number }).port)
  }

  #accept (socket: Socket, protocol: StreamProtocol, codec: StreamCodec): void {
    if (socket.destroyed) return
    const { intake, held, clock, idleMs } = this.#options
    const connection = new StreamConnection(socket, protocol, codec, {
      intake,
      held,
      clock,
      idleMs,
      ended: (ended) => {
        this.#live.delete(ended)
        this.#recent.push(ended.report)
        if (this.#recent.length > RECENT) this.#recent.shift()
        intake.log.info({ stream: { ...ended.report, remote: undefined } }, 'stream connection ended')
      }
    }, ++this.#ids)
    this.#live.add(connection)
  }

  #datagram (text: string, protocol: StreamProtocol): void {
    const { intake } = this.#options
    const meet = (entries: string[], numbered: Numbered): void => {
      // No connection to fault: a datagram meets lp0, GDPR and the burn only.
      if (intake.refusal(entries, numbered, protocol) !== undefined) return
      const appended = intake.append(entries, protocol, numbered, numbered.fate.burn)
      if (appended instanceof Promise) appended.catch(() => {})
    }
    const number = (routed: Routed | undefined): void => {
      if (routed === undefined) return
      const numbered = intake.number(protocol, routed.fire)
      if (numbered instanceof Promise) numbered.then((settled) => { meet(routed.entries, settled) }, () => {})
      else meet(routed.entries, numbered)
    }
    const routed = intake.route([text], protocol)
    if (routed instanceof Promise) routed.then(number, () => {})
    else number(routed)
  }

  /** Every listener stops and every connection is cut: the server is closing. */
  async close (): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer)
    for (const connection of this.#live) connection.shutdown()
    await Promise.all(this.#servers.map((server) => new Promise<void>((resolve) => {
      if ('send' in server) server.close(() => { resolve() })
      else server.close(() => { resolve() })
    })))
    this.#servers.length = 0
  }
}
