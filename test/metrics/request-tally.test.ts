import fc from 'fast-check'
import { Counter, Histogram, Registry, type Metric } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { RequestTally } from '../../src/metrics/request-tally.js'

const BOUNDS = [0.001, 0.01, 0.1, 1]

/** The exposition text of one registry, sorted by line: the same series in any order compare equal. */
const scrape = async (registry: Registry) => (await registry.metrics()).split('\n').filter(Boolean).sort()

describe('RequestTally', () => {
  it('prints exactly what prom-client\'s Counter and Histogram print for the same requests', async () => {
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST'),
      route: fc.constantFrom('/logs', '/logs/:index', 'unmatched'),
      status: fc.constantFrom(200, 404, 503),
      seconds: fc.oneof(fc.double({ min: 0, max: 3, noNaN: true }), fc.constantFrom(...BOUNDS))
    })
    await fc.assert(fc.asyncProperty(fc.array(request, { maxLength: 60 }), async (requests) => {
      const reference = new Registry()
      const counter = new Counter({ name: 'requests_total', help: 'h', labelNames: ['method', 'route', 'status_code'], registers: [reference] })
      const histogram = new Histogram({ name: 'duration_seconds', help: 'h', labelNames: ['method', 'route'], buckets: BOUNDS, registers: [reference] })
      const tally = new RequestTally(BOUNDS)
      for (const { method, route, status, seconds } of requests) {
        counter.inc({ method, route, status_code: status })
        histogram.observe({ method, route }, seconds)
        tally.observe(method, route, status, seconds)
      }
      const ours = new Registry()
      ours.registerMetric({ name: 'requests_total', help: 'h', type: 'counter', aggregator: 'sum', get: async () => ({ name: 'requests_total', help: 'h', type: 'counter', aggregator: 'sum', values: tally.requests() }) } as unknown as Metric)
      ours.registerMetric({ name: 'duration_seconds', help: 'h', type: 'histogram', aggregator: 'sum', get: async () => ({ name: 'duration_seconds', help: 'h', type: 'histogram', aggregator: 'sum', values: tally.durations('duration_seconds') }) } as unknown as Metric)
      expect(await scrape(ours)).toEqual(await scrape(reference))
    }), { seed: 20261206, numRuns: 200 })
  })
})
