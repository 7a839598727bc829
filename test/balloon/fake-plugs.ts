import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { frame, unframe } from '../../src/balloon/kasa-codec.js'

/*
 * Fake smart plugs on 127.0.0.1 that keep a relay state and log every
 * command, for the balloon's tests.
 */

export interface FakeKasaOptions {
  /** Send each reply one byte at a time. */
  splitReplies?: boolean
  /** Answer with bytes that are not a frame. */
  garbage?: boolean
  /** Never switch the relay on (a broken plug). */
  stuckOff?: boolean
  /** Wait this long before answering. */
  delayMs?: number
}

export async function fakeKasa (options: FakeKasaOptions = {}) {
  const state = { relay: 0, countdown: undefined as { delay: number, act: number } | undefined, log: [] as string[] }
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    let buffer = Buffer.alloc(0)
    socket.on('data', async (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      const request = unframe(buffer)
      if (request === undefined) return
      if (options.delayMs !== undefined) await sleep(options.delayMs)
      const reply = answer(request.message as Record<string, Record<string, Record<string, number>>>)
      const bytes = options.garbage === true ? Buffer.from('not a frame at all') : frame(reply)
      if (options.splitReplies === true) {
        for (const byte of bytes) { socket.write(Buffer.from([byte])); await sleep(1) }
      } else {
        socket.write(bytes)
      }
      socket.end()
    })
  })

  function answer (message: Record<string, Record<string, Record<string, number>>>): unknown {
    const [module, methods] = Object.entries(message)[0] as [string, Record<string, Record<string, number>>]
    const [method, args] = Object.entries(methods)[0] as [string, Record<string, number>]
    state.log.push(method === 'set_relay_state' ? `set_relay_state ${args.state}` : method === 'add_rule' ? `add_rule delay=${args.delay} act=${args.act}` : method)
    const result = (() => {
      switch (method) {
        case 'get_sysinfo': return { err_code: 0, alias: 'balloon', model: 'HS103(US)', relay_state: state.relay, on_time: 0 }
        case 'set_relay_state':
          if (options.stuckOff !== true) state.relay = args.state as number
          return { err_code: 0 }
        case 'delete_all_rules': state.countdown = undefined; return { err_code: 0 }
        case 'add_rule':
          if (state.countdown !== undefined) return { err_code: -10, err_msg: 'table is full' }
          state.countdown = { delay: args.delay as number, act: args.act as number }
          return { err_code: 0, id: 'rule1' }
        default: return { err_code: -2, err_msg: 'member not support' }
      }
    })()
    return { [module]: { [method]: result } }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    state,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) })
  }
}

/** A Shelly (Gen1 or Gen2) or Tasmota over HTTP, with the endpoints the balloon uses. */
export async function fakeHttpPlug () {
  const state = { on: false, log: [] as string[] }
  const server: HttpServer = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://plug')
    state.log.push(decodeURIComponent(url.pathname + url.search))
    const json = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (url.pathname === '/relay/0') {
      const turn = url.searchParams.get('turn')
      if (turn !== null) state.on = turn === 'on'
      return json({ ison: state.on, has_timer: url.searchParams.has('timer') })
    }
    if (url.pathname === '/rpc/Switch.Set') {
      const was = state.on
      state.on = url.searchParams.get('on') === 'true'
      return json({ was_on: was })
    }
    if (url.pathname === '/rpc/Switch.GetStatus') return json({ id: 0, output: state.on })
    if (url.pathname === '/cm') {
      const command = url.searchParams.get('cmnd') ?? ''
      if (command === 'Power On') state.on = true
      if (command === 'Power Off') state.on = false
      if (command.startsWith('PulseTime')) return json({ PulseTime: { Set: Number(command.split(' ')[1]), Remaining: 0 } })
      return json({ POWER: state.on ? 'ON' : 'OFF' })
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    state,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}
