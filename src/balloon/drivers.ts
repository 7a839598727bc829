import { connect } from 'node:net'
import { frame, unframe } from './kasa-codec.js'

/** What the balloon needs from a smart plug. */
export interface PlugDriver {
  /** Sets the device's own auto-off to `seconds`, then switches on: if logfire dies mid-pulse, the plug still goes off. */
  pulseOn: (seconds: number) => Promise<void>
  off: () => Promise<void>
  isOn: () => Promise<boolean>
}

export type DriverConfig =
  | { driver: 'kasa', host: string, port?: number }
  | { driver: 'shelly-gen1' | 'shelly-gen2', host: string, port?: number }
  | { driver: 'tasmota', host: string, port?: number, user?: string, password?: string }

const TIMEOUT_MS = 3000

export function plugDriver (config: DriverConfig): PlugDriver {
  switch (config.driver) {
    case 'kasa': return kasa(config.host, config.port ?? 9999)
    case 'shelly-gen1': return shellyGen1(base(config))
    case 'shelly-gen2': return shellyGen2(base(config))
    case 'tasmota': return tasmota(base(config), config.user, config.password)
  }
}

const base = (config: { host: string, port?: number }) => `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port ?? 80}`

// ------------------------------------------------------------------ Kasa

/** One request per connection, as the plugs expect; the reply may come in pieces. */
export function kasaRequest (host: string, port: number, message: unknown, timeoutMs = TIMEOUT_MS): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port })
    let buffer = Buffer.alloc(0)
    const fail = (error: Error) => { socket.destroy(); reject(error) }
    socket.setTimeout(timeoutMs, () => fail(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)))
    socket.on('error', fail)
    socket.on('connect', () => socket.write(frame(message)))
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      try {
        const reply = unframe(buffer)
        if (reply !== undefined) { socket.end(); resolve(reply.message) }
      } catch {
        fail(new Error(`an unreadable reply from ${host}:${port}`))
      }
    })
    socket.on('end', () => fail(new Error(`${host}:${port} closed the connection before a whole reply`)))
  })
}

function kasa (host: string, port: number): PlugDriver {
  const call = async (module: string, method: string, args: unknown): Promise<Record<string, unknown>> => {
    const reply = await kasaRequest(host, port, { [module]: { [method]: args } }) as Record<string, Record<string, Record<string, unknown>>>
    const result = reply?.[module]?.[method]
    if (result === undefined) throw new Error(`the plug did not answer ${module}.${method}`)
    if (result.err_code !== undefined && result.err_code !== 0) throw new Error(`${module}.${method} failed with err_code ${String(result.err_code)}`)
    return result
  }
  return {
    async pulseOn (seconds) {
      // Only one countdown rule may exist: clear, then add the auto-off.
      await call('count_down', 'delete_all_rules', {})
      await call('count_down', 'add_rule', { enable: 1, delay: seconds, act: 0, name: 'logfire auto-off' })
      await call('system', 'set_relay_state', { state: 1 })
    },
    async off () { await call('system', 'set_relay_state', { state: 0 }) },
    async isOn () { return (await call('system', 'get_sysinfo', {})).relay_state === 1 }
  }
}

// ------------------------------------------------------------- HTTP plugs

async function getJson (url: string): Promise<Record<string, unknown>> {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'error' })
  if (!response.ok) throw new Error(`the plug answered ${response.status}`)
  return await response.json() as Record<string, unknown>
}

function shellyGen1 (url: string): PlugDriver {
  return {
    async pulseOn (seconds) { await getJson(`${url}/relay/0?turn=on&timer=${seconds}`) },
    async off () { await getJson(`${url}/relay/0?turn=off`) },
    async isOn () { return (await getJson(`${url}/relay/0`)).ison === true }
  }
}

function shellyGen2 (url: string): PlugDriver {
  return {
    async pulseOn (seconds) { await getJson(`${url}/rpc/Switch.Set?id=0&on=true&toggle_after=${seconds}`) },
    async off () { await getJson(`${url}/rpc/Switch.Set?id=0&on=false`) },
    async isOn () { return (await getJson(`${url}/rpc/Switch.GetStatus?id=0`)).output === true }
  }
}

/** Tasmota's PulseTime: 1-111 are tenths of a second, 112 and up are seconds plus 100. */
export function pulseTime (seconds: number): number {
  return seconds * 10 <= 111 ? Math.round(seconds * 10) : Math.round(seconds) + 100
}

function tasmota (url: string, user?: string, password?: string): PlugDriver {
  const auth = user === undefined ? '' : `&user=${encodeURIComponent(user)}&password=${encodeURIComponent(password ?? '')}`
  const command = (text: string) => getJson(`${url}/cm?cmnd=${encodeURIComponent(text)}${auth}`)
  return {
    async pulseOn (seconds) {
      await command(`PulseTime ${pulseTime(seconds)}`)
      await command('Power On')
    },
    async off () { await command('Power Off') },
    async isOn () { return (await command('Power')).POWER === 'ON' }
  }
}
