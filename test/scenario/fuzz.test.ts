import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadRules, RulesFileError } from '../../src/alerts/load.js'
import { appsClosedAfterEach, post } from '../helpers.js'

const start = appsClosedAfterEach()
const SEED = 20261203
const admin = { authorization: 'Bearer admin' }

// Near-valid documents find the checks between fields; plain JSON finds the rest.
const anything = fc.oneof(fc.integer({ min: -5, max: 2_000_000_000 }), fc.double(), fc.boolean(), fc.constant(null), fc.string({ maxLength: 20 }), fc.constantFrom('fire', 'burn', 'off', 'delay=100', 'hang', 'explode', 'status=418', ''))
const step = fc.dictionary(fc.constantFrom('requests', 'seconds', 'pause', 'match', 'chaos', 'set', 'burn', 'route', 'odd'), fc.oneof(anything, fc.dictionary(fc.constantFrom('fireRate', 'route', 'method', 'headers', 'gdpr', 'delayMs', 'wipeRate', 'x'), anything)), { maxKeys: 4 })
const scenario = fc.oneof(
  fc.record({ name: fc.option(anything, { nil: undefined }), loop: fc.option(anything, { nil: undefined }), steps: fc.array(step, { maxLength: 4 }) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 3 })
)

describe('fuzzing the scenario and rules documents (fixed sample)', () => {
  it('PUT /admin/scenario answers 200 or a 400 in the error shape, never more, and the service keeps serving', async () => {
    const app = await start({ adminToken: 'admin', adminRateLimit: 0 })
    await fc.assert(fc.asyncProperty(scenario, async (document) => {
      const response = await app.inject({ method: 'PUT', url: '/admin/scenario', headers: { ...admin, 'content-type': 'application/json' }, payload: JSON.stringify(document) })
      expect([200, 400]).toContain(response.statusCode)
      if (response.statusCode === 400) expect(Object.keys(response.json()).sort()).toEqual(['code', 'error', 'message', 'statusCode'])
      expect((await app.inject({ method: 'GET', url: '/admin/scenario', headers: admin })).statusCode).toBe(200)
      expect([200, 410, 451, 503]).toContain((await post(app, 'still here', { 'x-logfire-chaos': 'off' })).statusCode)
      await app.inject({ method: 'DELETE', url: '/admin/scenario', headers: admin })
    }), { seed: SEED, numRuns: 300 })
  })

  const rule = fc.dictionary(fc.constantFrom('name', 'type', 'description', 'pattern', 'severity', 'outputs', 'threshold', 'withinSeconds', 'groupBy', 'maxGroups', 'cooldownSeconds'),
    fc.oneof(anything, fc.constantFrom('frequency', 'flatline', 'any', '$.a', 'high', 'r1'), fc.array(fc.constantFrom('log', 'monkeys', 'x'), { maxLength: 2 })), { maxKeys: 8 })
  const output = fc.dictionary(fc.constantFrom('type', 'scenario', 'burn', 'set', 'seconds', 'cooldownSeconds'),
    fc.oneof(anything, fc.constantFrom('chaos', 'outage', 'talk'), fc.dictionary(fc.constantFrom('fireRate', 'steps', 'x'), anything)), { maxKeys: 5 })

  it('loadRules takes a rules file or refuses it with a RulesFileError, nothing else', () => {
    fc.assert(fc.property(fc.array(rule, { maxLength: 3 }), output, (rules, monkeys) => {
      try {
        loadRules(JSON.stringify({ outputs: { monkeys }, rules }), 'rules.json')
      } catch (error) {
        expect(error).toBeInstanceOf(RulesFileError)
      }
    }), { seed: SEED, numRuns: 2000 })
  })
})
