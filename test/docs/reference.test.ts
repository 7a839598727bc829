import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { renderReference } from '../../scripts/reference.js'
import { ENVIRONMENT } from '../../src/config.js'

describe('docs/reference.md', () => {
  it('is what `npm run docs` generates from the code today', async () => {
    const committed = readFileSync(new URL('../../docs/reference.md', import.meta.url), 'utf8')
    // On a difference: run `npm run docs` and commit docs/reference.md.
    expect(committed).toBe(await renderReference())
  })

  it('has a companion, .env.example, that names every variable', () => {
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8')
    expect(Object.keys(ENVIRONMENT.shape).filter((variable) => !new RegExp(`^#? ?${variable}=`, 'm').test(example))).toEqual([])
  })
})
