import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { findEuMention, findEuMentionInEntries } from '../../src/gdpr/detect.js'

describe('findEuMention', () => {
  it.each([
    ['EU regulators are watching', 'EU'],
    ['the eu said no', 'eu'],
    ['E.U. rules', 'E.U.'],
    ['moved to the U.K.', 'U.K.'],
    ['UK', 'UK'],
    ['the UK\'s servers', 'UK'],
    ['Europe is lovely', 'Europe'],
    ['a European customer', 'European'],
    ['Europeans logged in', 'Europeans'],
    ['the European Union is here', 'European Union'],
    ['European-Union', 'European-Union'],
    ['United Kingdom', 'United Kingdom'],
    ['united_kingdom', 'united_kingdom'],
    ['Great Britain', 'Great Britain'],
    ['Britain', 'Britain'],
    ['British Airways', 'British'],
    ['after Brexit', 'Brexit'],
    ['region=eu-west-1', 'eu'],
    ['tz=Europe/London', 'Europe'],
    ['GET https://shop.example.co.uk/cart', 'uk'],
    ['EUROPE', 'EUROPE']
  ])('finds a mention in %j', (text, term) => {
    expect(findEuMention(text)?.term).toBe(term)
  })

  it.each([
    'queue full', 'neutral', 'Ukraine', 'ukulele', 'Luke Skywalker', 'Euler', 'feud', 'Eurasia',
    'neurons', 'bulk', 'Duke', 'museum', 'eu2', 'uk1', 'pseudo', 'Eugene', 'deuk', ''
  ])('finds no mention in %j', (text) => {
    expect(findEuMention(text)).toBeUndefined()
  })

  it('reports where the mention is', () => {
    expect(findEuMention('deploy to eu-west-1')).toEqual({ term: 'eu', offset: 10 })
  })

  it('names the first entry of a batch that mentions one', () => {
    expect(findEuMentionInEntries(['fine', 'also fine', 'the UK', 'EU'])).toEqual({ entry: 2, term: 'UK', offset: 4 })
    expect(findEuMentionInEntries(['fine'])).toBeUndefined()
  })

  it('scans a hostile 1 MiB line in one linear pass', () => {
    // Not a timing assertion (the benchmark owns speed): a backtracking
    // pattern would not finish at all on these inputs within the test timeout.
    for (const hostile of ['eu'.repeat(1 << 19), 'united' + ' '.repeat(1 << 20), 'e.u'.repeat(1 << 18) + 'x', 'europeanx'.repeat(1 << 17)]) {
      expect(findEuMention(hostile)).toBeUndefined()
    }
  })

  it('finds a term wherever it stands between non-letters (property)', () => {
    const filler = fc.string({ unit: fc.constantFrom('x', 'y', 'z', ' ', '-', '1') })
    fc.assert(fc.property(filler, filler, fc.constantFrom('EU', 'uk', 'Europe', 'British'), (before, after, term) => {
      const text = `${before} ${term} ${after}`
      expect(findEuMention(text)).toBeDefined()
    }))
  })
})
