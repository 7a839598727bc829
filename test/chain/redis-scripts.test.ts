import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

// Every Lua script in the source: a template literal that calls Redis.
function scripts (): Array<[string, string]> {
  const found: Array<[string, string]> = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (path.endsWith('.ts')) {
        for (const [, text] of readFileSync(path, 'utf8').matchAll(/`([^`]*redis\.call[^`]*)`/g)) found.push([`${path}:${(text as string).slice(0, 30).replace(/\s+/g, ' ')}`, text as string])
      }
    }
  }
  walk('src')
  return found
}

// Redis commands that take no key. SPUBLISH's channel has a slot too, which Redis checks against the script's keys.
const KEYLESS = new Set(['TIME', 'SPUBLISH'])

describe('the Lua scripts, for Redis Cluster', () => {
  it('finds them all', () => {
    expect(scripts().length).toBeGreaterThanOrEqual(9)
  })

  it.each(scripts())('%s declares its flags with #!lua, and touches only the keys it is given', (_where, script) => {
    // With the shebang, a cluster refuses a key of another slot instead of allowing it until a reshard.
    expect(script.startsWith('#!lua')).toBe(true)
    for (const [, command, firstArgument] of script.matchAll(/redis\.call\('(\w+)'(?:,\s*([^,)]+))?/g)) {
      if (KEYLESS.has(command as string)) continue
      expect(`${command as string} ${firstArgument ?? ''}`).toMatch(/^\w+ KEYS\[[^\]]+\]$/)
    }
  })
})
