/*
 * npm run fuzz [-- --runs N] [-- --seed S]
 * Throws hostile requests at every ingest route (test/fuzz/hostile.ts) and
 * checks every invariant after each one. Prints the seed first, and on a
 * failure the command that replays it.
 */
import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { checkForwardFraming, checkFraming, checkGelfChunks, hostileGelfChunks, checkReassembly, checkRelpFraming, hostileForward, hostileRelp, hostileStream, splitFrames } from '../test/fuzz/frames.js'
import { fuzzTarget, hostileRequest } from '../test/fuzz/hostile.js'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '100000' }, seed: { type: 'string' } } })
const runs = Number(values.runs)
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed)
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--seed S]')
  process.exit(2)
}

const unhandled: unknown[] = []
process.on('unhandledRejection', (reason) => { unhandled.push(reason) })

console.log(`fuzz: ${runs.toLocaleString('en')} hostile requests, seed ${seed}`)
const target = await fuzzTarget(`fuzz-${seed}`)
const statuses = new Map<string, number>()
let done = 0
const began = Date.now()

const details = await fc.check(fc.asyncProperty(hostileRequest, async (request) => {
  const outcome = await target.send(request)
  statuses.set(outcome, (statuses.get(outcome) ?? 0) + 1)
  if (unhandled.length > 0) throw new Error(`unhandled rejection: ${String(unhandled[0])}`)
  done++
  if (done % 10_000 === 0) console.log(`  ${done.toLocaleString('en')} cases, ${Math.round((Date.now() - began) / 1000)} s`)
}), { seed, numRuns: runs, endOnFailure: true })
await target.close()

const seconds = ((Date.now() - began) / 1000).toFixed(1)
console.log('\n| status | responses |\n| --- | ---: |')
for (const [status, count] of [...statuses].sort(([a], [b]) => a.localeCompare(b))) console.log(`| ${status} | ${count.toLocaleString('en')} |`)
if (details.failed) {
  console.error(`\nFAILED after ${details.numRuns.toLocaleString('en')} cases (${seconds} s), seed ${seed}, path ${details.counterexamplePath}`)
  console.error(`counterexample: ${fc.stringify(details.counterexample)}`)
  console.error(String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance))
  console.error(`replay: npm run fuzz -- --seed ${seed} --runs ${runs}`)
  process.exit(1)
}
console.log(`\nfuzz: ${details.numRuns.toLocaleString('en')} cases passed in ${seconds} s (seed ${seed}): no 500, every reply in the documented shape, the chain verified after each, accepted requests stored whole and refused ones not at all, faults that cut the connection storing all or nothing`)

// The syslog framer, pure: hostile byte streams cut anywhere, then valid
// octet-counted frames cut anywhere, the same number of cases each.
const framing = new Map<string, number>()
const relp = new Map<string, number>()
const forward = new Map<string, number>()
const framerBegan = Date.now()
const framerChecks: Array<[string, () => { failed: boolean, numRuns: number, counterexample: unknown, errorInstance: unknown }]> = [
  ['hostile streams', () => fc.check(fc.property(hostileStream, (stream) => { const outcome = checkFraming(stream); framing.set(outcome, (framing.get(outcome) ?? 0) + 1) }), { seed, numRuns: runs })],
  ['split valid frames', () => fc.check(fc.property(splitFrames, (frames) => { checkReassembly(frames) }), { seed, numRuns: runs })],
  ['hostile Forward streams', () => fc.check(fc.property(hostileForward, (stream) => { const outcome = checkForwardFraming(stream); forward.set(outcome, (forward.get(outcome) ?? 0) + 1) }), { seed, numRuns: runs })],
  ['hostile GELF chunks', () => fc.check(fc.property(hostileGelfChunks, (datagrams) => { checkGelfChunks(datagrams) }), { seed, numRuns: runs })],
  ['hostile RELP sessions', () => fc.check(fc.property(hostileRelp, (stream) => { const outcome = checkRelpFraming(stream); relp.set(outcome, (relp.get(outcome) ?? 0) + 1) }), { seed, numRuns: runs })]
]
for (const [name, check] of framerChecks) {
  const result = check()
  if (result.failed) {
    console.error(`\nFAILED: the syslog framer, ${name}, after ${result.numRuns.toLocaleString('en')} cases, seed ${seed}`)
    console.error(`counterexample: ${fc.stringify(result.counterexample)}`)
    console.error(String((result.errorInstance as Error | undefined)?.message ?? result.errorInstance))
    console.error(`replay: npm run fuzz -- --seed ${seed} --runs ${runs}`)
    process.exit(1)
  }
}
console.log(`fuzz: the syslog framer took ${runs.toLocaleString('en')} hostile streams (${framing.get('frames') ?? 0} framed, ${framing.get('error') ?? 0} refused) and ${runs.toLocaleString('en')} split valid ones, and the RELP framer ${runs.toLocaleString('en')} hostile sessions (${relp.get('frames') ?? 0} framed, ${relp.get('error') ?? 0} refused), and the Forward codec ${runs.toLocaleString('en')} hostile streams (${forward.get('units') ?? 0} read, ${forward.get('error') ?? 0} refused), and GELF reassembly ${runs.toLocaleString('en')} floods of hostile chunks, in ${((Date.now() - framerBegan) / 1000).toFixed(1)} s: no throw, no frame over the limit, never more than one frame held, valid frames whole and in order`)
