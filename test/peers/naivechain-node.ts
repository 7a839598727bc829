import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { WebSocket, WebSocketServer } from 'ws'

/*
 * A naivechain node, written from the protocol in shared/reference/naivechain.md:
 * what a real one does, message for message, and nothing more (no validation
 * of a single next block, float timestamps when it mines).
 */

export interface NaiveBlock { index: number, previousHash: string, timestamp: number, data: unknown, hash: string }

const GENESIS: NaiveBlock = { index: 0, previousHash: '0', timestamp: 1465154705, data: 'my genesis block!!', hash: '816534932c2b7154836da6afc367695e6337db8a921823784c14378abed4f7d7' }
const QUERY_LATEST = 0
const QUERY_ALL = 1
const RESPONSE_BLOCKCHAIN = 2

const calculateHash = (index: number, previousHash: string, timestamp: number, data: unknown): string =>
  createHash('sha256').update(String(index) + previousHash + String(timestamp) + String(data)).digest('hex')
const hashOf = (block: NaiveBlock) => calculateHash(block.index, block.previousHash, block.timestamp, block.data)

export class NaivechainNode {
  blockchain: NaiveBlock[] = [GENESIS]
  readonly sockets: WebSocket[] = []
  #server: WebSocketServer | undefined

  get latest (): NaiveBlock { return this.blockchain[this.blockchain.length - 1]! }

  async listen (port = 0): Promise<number> {
    const server = new WebSocketServer({ port, host: '127.0.0.1' })
    this.#server = server
    server.on('connection', (ws) => { this.#initConnection(ws) })
    await once(server, 'listening')
    return (server.address() as { port: number }).port
  }

  async connect (url: string): Promise<WebSocket> {
    const ws = new WebSocket(url)
    // As naivechain does: set up in the open callback, before any message can arrive.
    ws.on('open', () => { this.#initConnection(ws) })
    await once(ws, 'open')
    return ws
  }

  /** Mines a block as naivechain does: a float timestamp in seconds. */
  mine (data: string, now = Date.now()): void {
    const previous = this.latest
    const timestamp = now / 1000
    this.blockchain.push({ index: previous.index + 1, previousHash: previous.hash, timestamp, data, hash: calculateHash(previous.index + 1, previous.hash, timestamp, data) })
    this.#broadcast(this.#responseLatest())
  }

  async close (): Promise<void> {
    for (const ws of this.sockets) ws.terminate()
    const server = this.#server
    if (server !== undefined) await new Promise((resolve) => { server.close(resolve) })
  }

  #initConnection (ws: WebSocket): void {
    this.sockets.push(ws)
    ws.on('message', (data) => { this.#handleMessage(ws, JSON.parse(String(data)) as { type: number, data?: string }) })
    const closed = () => { this.sockets.splice(this.sockets.indexOf(ws), 1) }
    ws.on('close', closed)
    ws.on('error', () => {})
    this.#write(ws, { type: QUERY_LATEST })
  }

  #handleMessage (ws: WebSocket, message: { type: number, data?: string }): void {
    switch (message.type) {
      case QUERY_LATEST: this.#write(ws, this.#responseLatest()); break
      case QUERY_ALL: this.#write(ws, { type: RESPONSE_BLOCKCHAIN, data: JSON.stringify(this.blockchain) }); break
      case RESPONSE_BLOCKCHAIN: this.#handleBlockchainResponse(message.data as string); break
    }
  }

  #handleBlockchainResponse (data: string): void {
    const received = (JSON.parse(data) as NaiveBlock[]).sort((a, b) => a.index - b.index)
    const latestReceived = received[received.length - 1]!
    const latestHeld = this.latest
    if (latestReceived.index <= latestHeld.index) return
    if (latestHeld.hash === latestReceived.previousHash) {
      this.blockchain.push(latestReceived)
      this.#broadcast(this.#responseLatest())
    } else if (received.length === 1) {
      this.#broadcast({ type: QUERY_ALL })
    } else if (this.#isValidChain(received) && received.length > this.blockchain.length) {
      this.blockchain = received
      this.#broadcast(this.#responseLatest())
    }
  }

  #isValidChain (chain: NaiveBlock[]): boolean {
    if (JSON.stringify(chain[0]) !== JSON.stringify(GENESIS)) return false
    for (let i = 1; i < chain.length; i++) {
      const previous = chain[i - 1]!
      const block = chain[i]!
      if (previous.index + 1 !== block.index || previous.hash !== block.previousHash || hashOf(block) !== block.hash) return false
    }
    return true
  }

  #responseLatest () { return { type: RESPONSE_BLOCKCHAIN, data: JSON.stringify([this.latest]) } }
  #write (ws: WebSocket, message: unknown): void { if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message)) }
  #broadcast (message: unknown): void { for (const ws of this.sockets) this.#write(ws, message) }
}
