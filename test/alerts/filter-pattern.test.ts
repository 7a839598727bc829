import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compileFilterPattern, FilterPatternError } from '../../src/alerts/filter-pattern.js'
import { CIS_PATTERNS } from './cis-patterns.js'

const parseFilterPattern = (pattern: string) => compileFilterPattern(pattern).matches
const fieldsNeeded = (pattern: string) => compileFilterPattern(pattern).needs

const matches = (pattern: string, entry: unknown) =>
  parseFilterPattern(pattern)(typeof entry === 'string' ? entry : JSON.stringify(entry))

const rootLogin = {
  eventVersion: '1.08',
  userIdentity: { type: 'Root', principalId: '123456789012', arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012' },
  eventSource: 'signin.amazonaws.com',
  eventName: 'ConsoleLogin',
  eventType: 'AwsConsoleSignIn',
  sourceIPAddress: '198.51.100.7',
  additionalEventData: { MFAUsed: 'No' },
  responseElements: { ConsoleLogin: 'Success' }
}

describe('parseFilterPattern: JSON patterns', () => {
  it.each(CIS_PATTERNS)('parses CIS %s as published', (_item, pattern) => {
    expect(() => parseFilterPattern(pattern)).not.toThrow()
  })

  it('matches the CIS root-usage pattern on a root console login, not on a service acting as root or an IAM user', () => {
    const rootUsage = (CIS_PATTERNS.find(([item]) => item === '3.3/4.3') as [string, string])[1]
    expect(matches(rootUsage, rootLogin)).toBe(true)
    expect(matches(rootUsage, { ...rootLogin, userIdentity: { ...rootLogin.userIdentity, invokedBy: 'cloudtrail.amazonaws.com' } })).toBe(false)
    expect(matches(rootUsage, { ...rootLogin, eventType: 'AwsServiceEvent' })).toBe(false)
    expect(matches(rootUsage, { ...rootLogin, userIdentity: { type: 'IAMUser' } })).toBe(false)
  })

  it('matches * wildcards anywhere in a value, quoted or bare', () => {
    const unauthorized = (CIS_PATTERNS[0] as [string, string])[1]
    expect(matches(unauthorized, { errorCode: 'Client.UnauthorizedOperation' })).toBe(true)
    expect(matches(unauthorized, { errorCode: 'AccessDeniedException' })).toBe(true)
    expect(matches(unauthorized, { errorCode: 'ThrottlingException' })).toBe(false)
    expect(matches('{ $.sourceIPAddress != 123.123.* }', { sourceIPAddress: '198.51.100.7' })).toBe(true)
    expect(matches('{ $.sourceIPAddress != 123.123.* }', { sourceIPAddress: '123.123.0.1' })).toBe(false)
    expect(matches('{ $.a = "*x*y*" }', { a: 'axbyc' })).toBe(true)
    expect(matches('{ $.a = "*x*y*" }', { a: 'ayx' })).toBe(false)
    expect(matches('{ $.a = "ab*ba" }', { a: 'aba' })).toBe(false)
  })

  it('compares numbers, and = also matches a number written as a string', () => {
    expect(matches('{ $.latency > 500 }', { latency: 501 })).toBe(true)
    expect(matches('{ $.latency >= 500 }', { latency: 500 })).toBe(true)
    expect(matches('{ $.latency < 500 }', { latency: '100' })).toBe(false)
    expect(matches('{ $.status = 403 }', { status: 403 })).toBe(true)
    expect(matches('{ $.status = 403 }', { status: '403' })).toBe(true)
    expect(matches('{ $.status != 403 }', { status: 404 })).toBe(true)
  })

  it('selects nested fields and array elements', () => {
    const record = { requestParameters: { ipPermissions: { items: [{ ipRanges: { items: [{ cidrIp: '0.0.0.0/0' }] } }] } } }
    expect(matches('{ $.requestParameters.ipPermissions.items[0].ipRanges.items[0].cidrIp = "0.0.0.0/0" }', record)).toBe(true)
    expect(matches('{ $.requestParameters.ipPermissions.items[1].ipRanges.items[0].cidrIp = "0.0.0.0/0" }', record)).toBe(false)
  })

  it('has IS NULL, NOT EXISTS, IS TRUE and IS FALSE', () => {
    expect(matches('{ $.errorCode IS NULL }', { errorCode: null })).toBe(true)
    expect(matches('{ $.errorCode IS NULL }', {})).toBe(false)
    expect(matches('{ $.errorCode NOT EXISTS }', {})).toBe(true)
    expect(matches('{ $.errorCode NOT EXISTS }', { errorCode: null })).toBe(false)
    expect(matches('{ $.readOnly IS TRUE }', { readOnly: true })).toBe(true)
    expect(matches('{ $.readOnly IS FALSE }', { readOnly: 'false' })).toBe(false)
  })

  it('pins != on a missing field: no match, so say NOT EXISTS when you mean it', () => {
    expect(matches('{ $.additionalEventData.MFAUsed != "Yes" }', { eventName: 'ConsoleLogin' })).toBe(false)
    expect(matches('{ $.a != "x" || $.a NOT EXISTS }', {})).toBe(true)
  })

  it('binds && tighter than ||, and honours parentheses', () => {
    expect(matches('{ $.a = 1 || $.b = 1 && $.c = 1 }', { a: 1 })).toBe(true)
    expect(matches('{ ($.a = 1 || $.b = 1) && $.c = 1 }', { a: 1 })).toBe(false)
  })

  it('never matches text that is not a JSON object', () => {
    expect(matches('{ $.a = 1 }', 'a = 1')).toBe(false)
    expect(matches('{ $.a NOT EXISTS }', '[1, 2]')).toBe(false)
  })

  it.each([
    ['{ $.a = }', 'expected a value after = at column 9'],
    ['{ $.a = "x" ', 'expected "}" before the end at column 13'],
    ['{ $.a == "x" }', 'expected a value after = at column 8'],
    ['{ a = 1 }', 'expected a selector such as $.eventName, found "a" at column 3'],
    ['{ $.a > "x" }', '> compares numbers, not "x" at column 9'],
    ['{ $.a = "x" } extra', 'unexpected "extra" after the closing } at column 15'],
    ['{ $.a IS MAYBE }', 'expected an operator, IS NULL, IS TRUE, IS FALSE or NOT EXISTS after $.a at column 7'],
    ['{ $.a = "unterminated }', 'unterminated string at column 9'],
    ['[ip, user]', 'space-delimited patterns ([a, b, ...]) are not supported; use terms or a JSON pattern at column 1']
  ])('refuses %j, saying where', (pattern, message) => {
    expect(() => parseFilterPattern(pattern)).toThrow(new FilterPatternError(message.replace(/ at column \d+$/, ''), Number(/column (\d+)$/.exec(message)?.[1])))
  })
})

describe('parseFilterPattern: term patterns', () => {
  const line = 'Nov 27 20:41:00 host sshd[123]: Failed password for root from 198.51.100.7 port 22 ssh2'

  it.each([
    ['Failed', true],
    ['failed', false],
    ['Failed root', true],
    ['Failed admin', false],
    ['?admin ?root', true],
    ['?admin ?alice', false],
    ['Failed -invalid', true],
    ['Failed -root', false],
    ['"password for root"', true],
    ['"password root"', false],
    ['sshd ?root ?admin -Accepted', true],
    ['', true]
  ])('%j → %s', (pattern, expected) => {
    expect(matches(pattern, line)).toBe(expected)
  })

  it('looks at the raw text of JSON entries too', () => {
    expect(matches('ConsoleLogin', rootLogin)).toBe(true)
  })
})

describe('fieldsNeeded', () => {
  it.each([
    ['{ $.eventName = "ConsoleLogin" }', ['eventName']],
    ['{ ($.errorCode = "*Unauthorized*") || ($.errorCode = "AccessDenied*") }', ['errorCode']],
    ['{ ($.eventName = ConsoleLogin) || ($.errorMessage = "x") }', ['eventName', 'errorMessage']],
    ['{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }', ['userIdentity']],
    ['{ $.a NOT EXISTS && $.b IS NULL }', ['b']],
    ['{ $.a > 3 || $.b NOT EXISTS }', undefined],
    ['{ $.a NOT EXISTS }', undefined],
    ['{ $[0] = 1 }', []],
    ['ERROR', undefined]
  ])('%s needs %j', (pattern, fields) => {
    expect(fieldsNeeded(pattern)).toEqual(fields)
  })

  it('never leaves out a field a match needed: a matching entry names one, or holds an escape', () => {
    const patterns = [...CIS_PATTERNS.map(([, p]) => p), '{ $.x IS NULL || $.y > 3 }', '{ $.a.b = "*" && ($.c IS TRUE || $.d != 1) }']
      .map((pattern) => ({ match: parseFilterPattern(pattern), fields: fieldsNeeded(pattern) }))
    const key = fc.constantFrom('eventName', 'eventSource', 'errorCode', 'userIdentity', 'a', 'b', 'c', 'd', 'x', 'y', 'type', 'MFAUsed')
    const value = fc.oneof(fc.constantFrom('ConsoleLogin', 'Root', 'CreateTrail', 'AccessDenied', 'No'), fc.jsonValue({ maxDepth: 2 }))
    const entry = fc.dictionary(key, fc.oneof(value, fc.dictionary(key, value)))
    fc.assert(fc.property(entry, fc.boolean(), (object, escaped) => {
      let text = JSON.stringify(object)
      if (escaped) text = text.replace(/"([a-z])/, (_, c: string) => `"\\u00${c.charCodeAt(0).toString(16)}`)
      for (const { match, fields } of patterns) {
        if (fields === undefined || !match(text)) continue
        expect(text.includes('\\') || fields.some((field) => text.includes(`"${field}"`))).toBe(true)
      }
    }), { numRuns: 500 })
  })
})

describe('parseFilterPattern: properties', () => {
  it('never throws while matching, whatever the entry', () => {
    const patterns = [...CIS_PATTERNS.map(([, p]) => p), 'ERROR ?a ?b -c', '{ $.a[0].b = "*" }', '{ $.x IS NULL || $.y > 3 }'].map(parseFilterPattern)
    fc.assert(fc.property(fc.oneof(fc.string(), fc.jsonValue().map((v) => JSON.stringify(v))), (entry) => {
      for (const match of patterns) expect(typeof match(entry)).toBe('boolean')
    }))
  })

  it('either parses a pattern or throws a FilterPatternError with a column inside it', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40 }).map((s) => '{ ' + s), (pattern) => {
      try {
        parseFilterPattern(pattern)
      } catch (error) {
        expect(error).toBeInstanceOf(FilterPatternError)
        expect((error as FilterPatternError).column).toBeGreaterThan(0)
        expect((error as FilterPatternError).column).toBeLessThanOrEqual(pattern.length + 1)
      }
    }))
  })
})
