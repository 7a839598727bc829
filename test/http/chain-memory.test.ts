import { get } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { ChainStore, type ChainRead } from '../../src/chain/store.js'
import { appsClosedAfterEach } from '../helpers.js'

const start = appsClosedAfterEach()

/** A store that counts the reads not yet released: each one holds chain memory back from reuse. */
class CountingStore extends ChainStore {
  open = 0
  override read (from?: number): ChainRead {
    const read = super.read(from)
    this.open += 1
    let released = false
    return {
      ...read,
      release: () => {
        if (!released) this.open -= 1
        released = true
        read.release()
      }
    }
  }
}

/** A chain of about 3 MB: big enough to be streamed rather than copied. */
function bigStore (): CountingStore {
  const store = new CountingStore()
  for (let i = 0; i < 10; i++) store.append(Array.from({ length: 1000 }, () => 'q'.repeat(300)), 1_700_000_000_000)
  return store
}

async function until (condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(20)
}

describe('reads of a big chain give its memory back', () => {
  it('after a whole GET and after a HEAD', async () => {
    const store = bigStore()
    const a = await start({}, { store })
    const response = await a.inject({ method: 'GET', url: '/logs' })
    expect(response.json()).toHaveLength(10_001)
    await until(() => store.open === 0)
    expect(store.open).toBe(0)

    expect((await a.inject({ method: 'HEAD', url: '/logs' })).body).toBe('')
    await until(() => store.open === 0)
    expect(store.open).toBe(0)
  })

  it('when the client hangs up halfway', async () => {
    const store = bigStore()
    const a = await start({}, { store })
    await a.listen({ port: 0, host: '127.0.0.1' })
    const { port } = a.server.address() as AddressInfo
    await new Promise<void>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/logs' }, (response) => {
        response.once('data', () => {
          expect(store.open).toBe(1)
          response.destroy()
          resolve()
        })
      }).on('error', reject)
    })
    await until(() => store.open === 0)
    expect(store.open).toBe(0)
  })
})
