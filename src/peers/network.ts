import type { IncomingMessage } from 'node:http'
import { WebSocket, WebSocketServer } from 'ws'
import type { Chain } from '../chain/chain.js'
import type { Block } from '../chain/block.js'
import { verifyChain } from '../chain/verify.js'
import { blockchainResponse, queryAll, queryLatest, readMessage, QUERY_ALL, QUERY_LATEST, type RefusalReason } from './protocol.js'

export interface PeerLimits {
  /** Peers connected at once, both ways; past it a connection is refused. */
  maxPeers: number
  /** The largest message a peer may send; past it the connection is closed (1009). */
  maxMessageBytes: number
  /** The largest whole chain sent in answer to QUERY_ALL; a bigger chain is not sent. */
  maxChainMessageBytes: number
  /** Messages a second one peer may send; past it the peer is cut off. */
  messagesPerSecond: number
  /** never: logfire is the sink of record. longest: naive consensus, for a classroom of logfire nodes. */
  accept: 'never' | 'longest'
}

interface Logger {
  info: (fields: object, message: string) => void
  warn: (fields: object, message: string) => void
}

/** A peer as GET /peers shows it: where, which way, and the chain it last told of. */
export interface PeerView {
  address: string
  direction: 'in' | 'out'
  /** Its chain's length, as it last said; undefined until it has said. */
  length: number | undefined
  head: string | undefined
}

interface Peer {
  socket: WebSocket
  address: string
  direction: 'in' | 'out'
  length: number | undefined
  head: string | undefined
  /** The start of the current second, and the messages received in it. */
  windowStart: number
  received: number
  /** When it was last sent the whole chain: at most once a second. */
  lastWholeChain: number
  /** A whole chain asked for too soon, sent when the second is up. */
  wholeChainLater: NodeJS.Timeout | undefined
}

/** Totals for /metrics. */
export interface PeerCounts {
  messagesIn: number
  messagesOut: number
  refused: Record<RefusalReason | 'connection', number>
}

const RECONNECT_MS = [1000, 2000, 5000, 10_000, 30_000]

/**
 * logfire as a naivechain node: it answers QUERY_LATEST and QUERY_ALL from the
 * stored JSON text, tells every peer of each append (coalesced), dials the
 * peers it is given and redials them with backoff. By default it is the sink
 * of record and never takes a peer's chain; with accept 'longest' it follows
 * naive consensus. Hostile peers are refused and counted, never a crash.
 */
export class PeerNetwork {
  readonly #peers = new Set<Peer>()
  readonly #dialled = new Map<string, { attempt: number, timer: NodeJS.Timeout | undefined }>()
  readonly #counts: PeerCounts = { messagesIn: 0, messagesOut: 0, refused: { malformed: 0, 'unknown-type': 0, 'bad-block': 0, 'bad-chain': 0, 'too-large': 0, flood: 0, connection: 0 } }
  #server: WebSocketServer | undefined
  #announce: NodeJS.Timeout | undefined
  #closed = false
  readonly #unsubscribe: () => void

  constructor (private readonly chain: Chain, private readonly limits: PeerLimits, private readonly clock: () => number, private readonly log: Logger) {
    // Appends come in bursts: peers hear of the head once per burst.
    this.#unsubscribe = chain.subscribe((event) => {
      if ((event.type === 'append' || event.type === 'burn') && this.#announce === undefined && this.#peers.size > 0) {
        this.#announce = setTimeout(() => {
          this.#announce = undefined
          this.#broadcast(this.#latest())
        }, 20)
      }
    })
  }

  get counts (): PeerCounts { return this.#counts }
  get size (): number { return this.#peers.size }

  /** Listens for peers; resolves with the port bound. */
  async listen (port: number, host: string): Promise<number> {
    const server = new WebSocketServer({
      port,
      host,
      maxPayload: this.limits.maxMessageBytes,
      perMessageDeflate: false,
      // Past the cap, the upgrade is answered 503 before a socket is kept.
      verifyClient: (_info, done) => {
        if (this.#peers.size < this.limits.maxPeers && !this.#closed) { done(true); return }
        this.#counts.refused.connection++
        done(false, 503, 'too many peers')
      }
    })
    this.#server = server
    server.on('connection', (socket: WebSocket, request: IncomingMessage) => {
      // Upgrades verified at the same moment can pass the cap together: the later ones go.
      if (this.#peers.size >= this.limits.maxPeers) {
        this.#counts.refused.connection++
        socket.close(1013, 'too many peers')
        return
      }
      this.#attach(socket, `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? 0}`, 'in')
    })
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
    return (server.address() as { port: number }).port
  }

  /** Dials a peer, and dials it again with backoff whenever the connection ends, until close. */
  dial (url: string): void {
    if (this.#dialled.has(url) || this.#closed) return
    this.#dialled.set(url, { attempt: 0, timer: undefined })
    this.#connect(url)
  }

  peers (): PeerView[] {
    return [...this.#peers].map(({ address, direction, length, head }) => ({ address, direction, length, head }))
  }

  /** Peers that hold a longer chain than logfire's: after a burn, the ones that remember it. */
  remembering (): number {
    let count = 0
    for (const peer of this.#peers) if (peer.length !== undefined && peer.length > this.chain.length) count++
    return count
  }

  async close (): Promise<void> {
    this.#closed = true
    this.#unsubscribe()
    clearTimeout(this.#announce)
    for (const state of this.#dialled.values()) clearTimeout(state.timer)
    for (const peer of this.#peers) {
      clearTimeout(peer.wholeChainLater)
      peer.socket.terminate()
    }
    const server = this.#server
    if (server !== undefined) await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }

  #connect (url: string): void {
    const state = this.#dialled.get(url)
    if (state === undefined || this.#closed) return
    const socket = new WebSocket(url, { maxPayload: this.limits.maxMessageBytes, perMessageDeflate: false, handshakeTimeout: 5000 })
    const redial = () => {
      if (this.#closed) return
      const wait = RECONNECT_MS[Math.min(state.attempt, RECONNECT_MS.length - 1)] as number
      state.attempt++
      state.timer = setTimeout(() => { this.#connect(url) }, wait)
      state.timer.unref()
    }
    socket.once('open', () => {
      if (this.#peers.size >= this.limits.maxPeers) {
        this.#counts.refused.connection++
        socket.close(1013, 'too many peers')
        return
      }
      state.attempt = 0
      this.#attach(socket, url, 'out')
    })
    socket.once('close', redial)
    socket.on('error', (error) => { this.log.warn({ peer: { url, error: error.message } }, 'peer connection failed') })
  }

  #attach (socket: WebSocket, address: string, direction: 'in' | 'out'): void {
    const peer: Peer = { socket, address, direction, length: undefined, head: undefined, windowStart: this.clock(), received: 0, lastWholeChain: -Infinity, wholeChainLater: undefined }
    this.#peers.add(peer)
    this.log.info({ peer: { address, direction } }, 'peer connected')
    socket.on('message', (data, isBinary) => { this.#receive(peer, isBinary ? '' : String(data)) })
    socket.on('close', () => {
      clearTimeout(peer.wholeChainLater)
      this.#peers.delete(peer)
      this.log.info({ peer: { address, direction } }, 'peer disconnected')
    })
    socket.on('error', (error) => {
      // ws closes with 1009 past maxPayload.
      if ((error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') this.#refuse(peer, 'too-large', 'a message over LOGFIRE_P2P_MAX_MESSAGE_BYTES')
    })
    // As naivechain does: ask for the latest block as soon as the connection opens.
    this.#send(peer, queryLatest())
  }

  #receive (peer: Peer, text: string): void {
    this.#counts.messagesIn++
    const now = this.clock()
    if (now - peer.windowStart >= 1000) {
      peer.windowStart = now
      peer.received = 0
    }
    if (++peer.received > this.limits.messagesPerSecond) {
      this.#refuse(peer, 'flood', `more than ${this.limits.messagesPerSecond} messages a second`)
      peer.socket.terminate()
      return
    }
    const message = readMessage(text)
    if ('refused' in message) {
      this.#refuse(peer, message.refused, message.detail)
      return
    }
    switch (message.type) {
      case QUERY_LATEST: this.#send(peer, this.#latest()); break
      case QUERY_ALL: this.#sendAll(peer); break
      default: {
        const last = message.blocks[message.blocks.length - 1]!
        peer.length = last.index + 1
        peer.head = last.hash
        // A peer behind logfire: it gets the latest, and asks for the whole chain if it needs it.
        if (last.index + 1 < this.chain.length) this.#send(peer, this.#latest())
        else if (last.index + 1 > this.chain.length && this.limits.accept === 'longest') this.#consider(peer, message.blocks)
      }
    }
  }

  // Naive consensus, with logfire's own rules: a longer chain, verified in
  // full (genesis, links, hashes, string data, integer timestamps), is adopted.
  #consider (peer: Peer, blocks: Block[]): void {
    if (blocks.length === 1) {
      this.#send(peer, queryAll())
      return
    }
    const verdict = verifyChain(blocks)
    if (!verdict.valid) {
      this.#refuse(peer, 'bad-chain', `block ${verdict.index}: ${verdict.reason}`)
      return
    }
    const from = this.chain.length
    if (!this.chain.adopt(blocks, peer.address)) {
      this.#refuse(peer, 'too-large', 'a chain over LOGFIRE_MAX_BLOCKS or LOGFIRE_MAX_CHAIN_BYTES')
      return
    }
    this.log.warn({ peer: { address: peer.address, adopted: { from, to: blocks.length } } }, "chain replaced by a peer's longer chain")
  }

  #refuse (peer: Peer, reason: RefusalReason, detail: string): void {
    this.#counts.refused[reason]++
    this.log.warn({ peer: { address: peer.address, refused: reason, detail } }, 'peer message refused')
  }

  #latest (): string {
    return blockchainResponse([(this.chain.textAt(this.chain.length - 1) as Buffer).toString('utf8')])
  }

  // The whole chain in one message. Not over the cap (a naivechain peer then
  // keeps its own), and at most once a second, the head as it is then:
  // QUERY_ALL is cheap to send and dear to answer.
  #sendAll (peer: Peer): void {
    const now = this.clock()
    if (peer.wholeChainLater !== undefined) return
    if (now - peer.lastWholeChain < 1000) {
      peer.wholeChainLater = setTimeout(() => {
        peer.wholeChainLater = undefined
        this.#sendAll(peer)
      }, 1000 - (now - peer.lastWholeChain))
      return
    }
    if (this.chain.bytesFrom(0) + 64 > this.limits.maxChainMessageBytes) {
      this.log.warn({ peer: { address: peer.address, bytes: this.chain.bytesFrom(0) } }, 'chain too large to send whole')
      return
    }
    const message = blockchainResponse([Buffer.concat(this.chain.slice(0).parts).toString('utf8')])
    if (Buffer.byteLength(message) > this.limits.maxChainMessageBytes) return
    peer.lastWholeChain = now
    this.#send(peer, message)
  }

  #send (peer: Peer, message: string): void {
    if (peer.socket.readyState !== WebSocket.OPEN) return
    this.#counts.messagesOut++
    peer.socket.send(message)
  }

  #broadcast (message: string): void {
    for (const peer of this.#peers) this.#send(peer, message)
  }
}
