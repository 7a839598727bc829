import { request, type IncomingMessage } from 'node:http'

export interface ReceivedEvent {
  id: string | undefined
  event: string
  data: any
}

/** A minimal Server-Sent Events client for tests: collects events and comment lines. */
export function openStream (url: string, headers: Record<string, string> = {}) {
  const events: ReceivedEvent[] = []
  const comments: string[] = []
  let ended = false
  let buffer = ''
  let response: IncomingMessage | undefined
  const waiters = new Set<() => void>()
  const notify = () => { for (const waiter of waiters) waiter() }

  const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
    response = res
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      let end
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const fields: Record<string, string> = {}
        for (const line of frame.split('\n')) {
          if (line.startsWith(':')) comments.push(line.slice(1).trim())
          const colon = line.indexOf(': ')
          if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2)
        }
        if (fields.data !== undefined) events.push({ id: fields.id, event: fields.event ?? 'message', data: JSON.parse(fields.data) })
      }
      notify()
    })
    res.on('end', () => { ended = true; notify() })
  })
  req.on('error', () => { ended = true; notify() })
  req.end()

  async function until (check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (check()) return
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { waiters.delete(waiter); reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(events)}`)) }, timeoutMs)
      const waiter = () => { if (check()) { clearTimeout(timer); waiters.delete(waiter); resolve() } }
      waiters.add(waiter)
    })
  }

  return {
    events,
    comments,
    get ended () { return ended },
    get response () { return response },
    connected: () => until(() => response !== undefined, 'the response head'),
    waitForEvents: (count: number) => until(() => events.length >= count, `${count} events`),
    waitForComment: () => until(() => comments.length > 0, 'a comment line'),
    waitForEnd: () => until(() => ended, 'the end of the stream'),
    close: () => req.destroy()
  }
}
