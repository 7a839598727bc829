import fc from 'fast-check'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { checkForwardFraming, checkFraming, checkGelfChunks, hostileGelfChunks, checkReassembly, checkRelpFraming, hostileForward, hostileRelp, hostileStream, splitFrames } from './fuzz/frames.js'
import { fuzzTarget, hostileRequest } from './fuzz/hostile.js'

// `npm run fuzz` runs 100,000 cases with a fresh seed; this is a fixed sample,
// so a failure here replays the same way every time.
const SEED = 20261127
const RUNS = 1500

describe('fuzzing the ingest routes with hostile requests (fixed sample)', () => {
  let target: Awaited<ReturnType<typeof fuzzTarget>>
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown) => { unhandled.push(reason) }
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled)
    target = await fuzzTarget('fuzz-sample')
  })
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled)
    await target.close()
  })

  it(`keeps every invariant for ${RUNS} requests: no 500, the documented shape, a chain that verifies, all or nothing`, async () => {
    await fc.assert(fc.asyncProperty(hostileRequest, async (request) => {
      await target.send(request)
      if (unhandled.length > 0) throw new Error(`unhandled rejection: ${String(unhandled[0])}`)
    }), { seed: SEED, numRuns: RUNS, endOnFailure: true })
  }, 120_000)
})

describe('fuzzing the syslog framer with hostile byte streams (fixed sample)', () => {
  it('never throws, never passes a frame over the limit, never holds more than one frame: 5,000 streams', () => {
    fc.assert(fc.property(hostileStream, (stream) => { checkFraming(stream) }), { seed: SEED, numRuns: 5000 })
  })

  it('never throws on a hostile RELP session, never passes data over the limit, never holds more than a frame: 5,000 sessions', () => {
    fc.assert(fc.property(hostileRelp, (stream) => { checkRelpFraming(stream) }), { seed: SEED, numRuns: 5000 })
  })

  it('never throws on hostile Forward bytes (bombs, truncated values, deep nesting, wrong types, PINGs of every shape before the handshake), never holds more than a message: 5,000 streams', () => {
    fc.assert(fc.property(hostileForward, (stream) => { checkForwardFraming(stream) }), { seed: SEED, numRuns: 5000 })
  })

  it('reassembles hostile GELF chunks without a throw, within its bounds in messages and bytes: 2,000 floods', () => {
    fc.assert(fc.property(hostileGelfChunks, (datagrams) => { checkGelfChunks(datagrams) }), { seed: SEED, numRuns: 2000 })
  })

  it('gives back octet-counted frames cut anywhere whole and in order: 2,000 streams', () => {
    fc.assert(fc.property(splitFrames, (frames) => { checkReassembly(frames) }), { seed: SEED, numRuns: 2000 })
  })
})
