import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RangeSet } from '../../src/scorecard/ranges.js'
import { Scorecard } from '../../src/scorecard/scorecard.js'
import { canaryLine, canaryLinesByRun, findToken } from '../../src/scorecard/token.js'

describe('findToken', () => {
  it('finds the token whatever wraps it: a syslog header, a JSON envelope, filler after it', () => {
    const line = canaryLine('run-1', 42, 1_700_000_000_000, 120)
    expect(line).toHaveLength(120)
    for (const entry of [line, `<14>1 2026-12-02T10:00:00Z host app - - - ${line}`, JSON.stringify({ event: line, host: 'x' }), JSON.stringify({ MESSAGE: line })]) {
      expect(findToken(entry)).toEqual({ run: 'run-1', seq: 42, sent: 1_700_000_000_000 })
    }
    expect(findToken('an ordinary line')).toBeUndefined()
  })

  it.each([
    ['a huge seq', 'logfire-canary run=r seq=99999999999999999999 sent=1'],
    ['a negative seq', 'logfire-canary run=r seq=-1 sent=1'],
    ['a bad run id', 'logfire-canary run=<script> seq=1 sent=1'],
    ['no send time', 'logfire-canary run=r seq=1'],
    ['two tokens in one line', 'logfire-canary run=r seq=1 sent=1 logfire-canary run=r seq=2 sent=1'],
    ['ten thousand tokens in one line', 'logfire-canary run=r seq=1 sent=1 '.repeat(10_000)]
  ])('calls %s malformed', (_what, entry) => {
    expect(findToken(entry)).toBe('malformed')
  })
})

describe('RangeSet', () => {
  it('keeps ten million numbers in order as one range', () => {
    const set = new RangeSet()
    for (let n = 1; n <= 10_000_000; n++) set.add(n)
    expect(set.size).toBe(10_000_000)
    expect(set.ranges).toBe(1)
  })

  it('holds exactly the numbers added, in any order, for any order of additions', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 300 }), (values) => {
      const set = new RangeSet()
      const reference = new Set<number>()
      for (const value of values) {
        expect(set.add(value)).toBe(!reference.has(value))
        reference.add(value)
      }
      expect(set.size).toBe(reference.size)
      for (let n = -1; n <= 201; n++) expect(set.has(n)).toBe(reference.has(n))
      expect(set.max).toBe(reference.size === 0 ? -1 : Math.max(...reference))
    }))
  })

  it('stops growing at its cap of ranges and says so', () => {
    const set = new RangeSet(100)
    for (let n = 0; n < 1000; n += 2) set.add(n)
    expect(set.ranges).toBe(100)
    expect(set.overflowed).toBe(true)
  })
})

describe('Scorecard', () => {
  // The reference: what a shipper's delivery did to the numbers 1..sent, counted the plain way.
  function reference (arrivals: number[]) {
    const seen = new Set<number>()
    let highest = -1
    let reordered = 0
    for (const seq of arrivals) {
      if (seen.has(seq)) continue
      if (seq < highest) reordered++
      highest = Math.max(highest, seq)
      seen.add(seq)
    }
    const lowest = Math.min(...seen)
    return { delivered: arrivals.length, unique: seen.size, duplicates: arrivals.length - seen.size, reordered, highest, missing: seen.size === 0 ? 0 : highest - lowest + 1 - seen.size }
  }

  it('counts any mix of drops, duplicates and reordering as a plain count does', () => {
    const delivery = fc.integer({ min: 1, max: 300 }).chain((sent) => fc.tuple(
      fc.constant(sent),
      fc.array(fc.integer({ min: 1, max: sent }), { maxLength: 600 })
    ))
    fc.assert(fc.property(delivery, ([, arrivals]) => {
      const scorecard = new Scorecard()
      scorecard.stored(arrivals.map((seq) => canaryLine('prop', seq, 1000)), 1000)
      const report = scorecard.report('prop')
      if (arrivals.length === 0) {
        expect(report).toBeUndefined()
        return
      }
      const { delivered, unique, duplicates, reordered, highest, missing } = report!
      expect({ delivered, unique, duplicates, reordered, highest, missing }).toEqual(reference(arrivals))
    }))
  })

  it('measures latency from the send time in each line, and keeps p50, p99 and max', () => {
    const scorecard = new Scorecard()
    for (let seq = 1; seq <= 100; seq++) scorecard.stored([canaryLine('slow', seq, 10_000 - (seq === 100 ? 4000 : seq % 10))], 10_000)
    const { latencyMs } = scorecard.report('slow')!
    expect(latencyMs.max).toBe(4000)
    expect(latencyMs.p50).toBeLessThanOrEqual(10)
    expect(latencyMs.p99).toBeLessThanOrEqual(10)
  })

  it('counts the lines a burn took after they were delivered, apart from the shipper\'s losses', () => {
    const scorecard = new Scorecard()
    scorecard.stored([1, 2, 3].map((seq) => canaryLine('burnt', seq, 0)), 1)
    scorecard.burned()
    scorecard.stored([4].map((seq) => canaryLine('burnt', seq, 0)), 2)
    expect(scorecard.report('burnt')).toMatchObject({ unique: 4, burnedAfterDelivery: 3 })
  })

  it('counts the chaos for the runs active at the time, and refused lines for their own run', () => {
    const scorecard = new Scorecard({ activeMs: 1000 })
    scorecard.start('early', 0)
    scorecard.chaos('lp0 503', 500)
    scorecard.stored([canaryLine('late', 1, 0)], 5000)
    scorecard.chaos('reset', 5500)
    scorecard.refused(canaryLinesByRun([canaryLine('late', 2, 0), canaryLine('late', 3, 0), 'other'])!, 451)
    expect(scorecard.report('early')).toMatchObject({ chaos: { 'lp0 503': 1 } })
    expect(scorecard.report('late')).toMatchObject({ chaos: { reset: 1 }, refusedLines: { 451: 2 } })
  })

  it('names the fault that preceded each duplicate: a resend follows the fault that made the shipper resend', () => {
    const scorecard = new Scorecard()
    scorecard.stored([1, 2, 1].map((seq) => canaryLine('resent', seq, 0)), 1)
    scorecard.chaos('forward ack-loss', 2)
    scorecard.stored([3, 2, 3].map((seq) => canaryLine('resent', seq, 0)), 3)
    scorecard.chaos('relp reset-after-append', 4)
    scorecard.stored([4, 4].map((seq) => canaryLine('resent', seq, 0)), 5)
    expect(scorecard.report('resent')).toMatchObject({ duplicates: 4, duplicatesAfter: { 'no fault': 1, 'forward ack-loss': 2, 'relp reset-after-append': 1 } })
  })

  it('keeps at most maxRuns runs, forgetting the least recently active', () => {
    const scorecard = new Scorecard({ maxRuns: 3 })
    for (const run of ['a', 'b', 'c']) scorecard.stored([canaryLine(run, 1, 0)], 1)
    scorecard.stored([canaryLine('a', 2, 0)], 2)
    scorecard.stored([canaryLine('d', 1, 0)], 3)
    expect(scorecard.reports().map((report) => report.run).sort()).toEqual(['a', 'c', 'd'])
  })

  it('counts malformed tokens and never grows on them', () => {
    const scorecard = new Scorecard()
    scorecard.stored(['logfire-canary run=x seq=1e99 sent=1', 'logfire-canary run=x seq=1 sent=1 '.repeat(10_000)], 1)
    expect(scorecard.malformed).toBe(2)
    expect(scorecard.reports()).toEqual([])
  })
})
