import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderReference } from '../../scripts/reference.js'

describe('docs/reference.md', () => {
  it('is what `npm run docs` generates from the code today', async () => {
    const committed = readFileSync(new URL('../../docs/reference.md', import.meta.url), 'utf8')
    // On a difference: run `npm run docs` and commit docs/reference.md.
    expect(committed).toBe(await renderReference())
  })
})
