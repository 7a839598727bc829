import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-http'
import { LoggerProvider, type SdkLogRecord } from '@opentelemetry/sdk-logs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LINGER_MAX_BYTES } from '../../src/http/lingering-close.js'
import { startLogfire, type Logfire } from './shippers/harness.js'

/*
 * A refusal sent before the body is read (413, 401, 415) reaches the client
 * as its status, not as EPIPE or ECONNRESET: logfire reads and throws away
 * the rest of the body before it closes. Each client is one users use, each
 * body well over LOGFIRE_MAX_BODY_BYTES (1 MiB here): 30 tries of 2 MiB,
 * 10 of 50 MiB.
 */

const MiB = 1024 * 1024
const TRIES = 30
// 30 tries of 2 MiB; of 50 MiB, 10: each moves 50 MiB over loopback, and fetch took 9 s for 30 of them.
const triesOf = (size: number) => size === 50 ? 10 : TRIES
const execFileAsync = promisify(execFile)

const tally = (outcomes: string[]) => outcomes.reduce<Record<string, number>>((counts, outcome) => ({ ...counts, [outcome]: (counts[outcome] ?? 0) + 1 }), {})
const errorCode = (error: unknown) => String((error as { cause?: { code?: string } }).cause?.code ?? (error as NodeJS.ErrnoException).code ?? error)

async function tries (attempt: () => Promise<string>, count = TRIES): Promise<Record<string, number>> {
  const outcomes: string[] = []
  for (let i = 0; i < count; i++) outcomes.push(await attempt().catch(errorCode))
  return tally(outcomes)
}

describe('refusals that reach the client', () => {
  let logfire: Logfire
  let dir: string
  const bodies: Record<number, Uint8Array<ArrayBuffer>> = {}
  const body = (size: number): Uint8Array<ArrayBuffer> => bodies[size] as Uint8Array<ArrayBuffer>
  beforeAll(async () => {
    logfire = await startLogfire({ ingestToken: 'right', maxBodyBytes: MiB })
    dir = mkdtempSync(join(tmpdir(), 'logfire-refusals-'))
    for (const size of [2, 50]) {
      bodies[size] = new Uint8Array(size * MiB).fill(0x61)
      writeFileSync(join(dir, `${size}.txt`), body(size))
    }
  })
  afterAll(async () => {
    await logfire.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const url = () => `${logfire.base}/logs`
  const auth = { authorization: 'Bearer right', 'content-type': 'text/plain' }

  it.each([2, 50])('fetch (undici), %i MiB: the 413 every time', async (size) => {
    expect(await tries(async () => {
      const response = await fetch(url(), { method: 'POST', body: body(size), headers: auth })
      await response.arrayBuffer()
      return String(response.status)
    }, triesOf(size))).toEqual({ 413: triesOf(size) })
  }, 60_000)

  it.each([2, 50])('http.request, %i MiB: the 413 every time', async (size) => {
    expect(await tries(() => new Promise((resolve, reject) => {
      const req = request(url(), { method: 'POST', headers: { ...auth, 'content-length': body(size).length } }, (response) => {
        response.resume()
        response.on('end', () => { resolve(String(response.statusCode)) })
      })
      req.on('error', reject)
      req.end(body(size))
    }), triesOf(size))).toEqual({ 413: triesOf(size) })
  }, 60_000)

  it.each([2, 50])('curl, %i MiB: the 413 every time', async (size) => {
    expect(await tries(async () => {
      const { stdout } = await execFileAsync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Authorization: Bearer right', '-H', 'Content-Type: text/plain', '--data-binary', `@${join(dir, `${size}.txt`)}`, url()])
      return stdout
    }, triesOf(size))).toEqual({ 413: triesOf(size) })
  }, 60_000)

  it.each([2, 50])('the OpenTelemetry exporter, a %i MiB batch: told 413, never a network error', async (size) => {
    const exporter = new OTLPLogExporter({ url: `${logfire.base}/v1/logs`, headers: { Authorization: 'Bearer right' }, timeoutMillis: 30_000 })
    const outcomes: string[] = []
    const count = triesOf(size)
    for (let i = 0; i < count; i++) {
      const result = await new Promise<ExportResult>((resolve) => {
        const batch: SdkLogRecord[] = []
        const provider = new LoggerProvider({ processors: [{ onEmit: (record) => { batch.push(record) }, forceFlush: async () => {}, shutdown: async () => {} }] })
        provider.getLogger('refusals').emit({ body: 'a'.repeat(size * MiB) })
        exporter.export(batch, resolve)
      })
      outcomes.push(result.code === ExportResultCode.SUCCESS ? 'success' : String((result.error as { code?: number } | undefined)?.code ?? result.error?.message))
    }
    expect(tally(outcomes)).toEqual({ 413: count })
  }, 60_000)

  it('a wrong token (401) and an unknown media type (415) reach fetch the same way', async () => {
    const post = (headers: Record<string, string>) => tries(async () => {
      const response = await fetch(url(), { method: 'POST', body: body(2), headers })
      await response.arrayBuffer()
      return String(response.status)
    })
    expect(await post({ authorization: 'Bearer wrong', 'content-type': 'text/plain' })).toEqual({ 403: TRIES })
    expect(await post({ 'content-type': 'text/plain' })).toEqual({ 401: TRIES })
    // Under the body limit, or the 413 comes first.
    const png = await tries(async () => {
      const response = await fetch(url(), { method: 'POST', body: body(2).subarray(0, MiB / 2), headers: { authorization: 'Bearer right', 'content-type': 'image/png' } })
      await response.arrayBuffer()
      return String(response.status)
    })
    expect(png).toEqual({ 415: TRIES })
  })

  it(`cuts off a client that sends forever once ${LINGER_MAX_BYTES / MiB} MiB have been thrown away, after it had its 413`, async () => {
    // It keeps sending after logfire's FIN, as a client deaf to its answer would.
    const socket = connect({ port: logfire.port, host: '127.0.0.1', allowHalfOpen: true })
    await once(socket, 'connect')
    let answer = ''
    socket.on('data', (chunk: Buffer) => { answer += chunk.toString('latin1') })
    const state: { ended?: string } = {}
    socket.on('error', (error: NodeJS.ErrnoException) => { state.ended ??= error.code })
    socket.on('close', () => { state.ended ??= 'close' })
    socket.write(`POST /logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer right\r\nContent-Type: text/plain\r\nContent-Length: ${100 * 1024 * MiB}\r\n\r\n`)
    const chunk = Buffer.alloc(MiB, 0x61)
    let sent = 0
    while (state.ended === undefined && sent < 4 * LINGER_MAX_BYTES) {
      if (!socket.write(chunk)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]).catch(() => {})
      sent += chunk.length
    }
    expect(answer).toMatch(/^HTTP\/1\.1 413 /)
    expect(state.ended).toBeDefined()
    expect(sent).toBeGreaterThan(LINGER_MAX_BYTES)
    expect(sent).toBeLessThan(2 * LINGER_MAX_BYTES)
    socket.destroy()
  }, 60_000)
})
