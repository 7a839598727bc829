import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

// A copy of the project with its current build, so a rebuild here never
// touches the dist/ the other tests run.
function projectCopy (): string {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-build-'))
  for (const path of ['src', 'dist', 'scripts/build-if-stale.mjs', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json']) {
    cpSync(path, join(dir, path), { recursive: true, preserveTimestamps: true })
  }
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'))
  return dir
}

const copies: string[] = []
afterEach(() => { for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true }) })

describe("npm start's prestart (scripts/build-if-stale.mjs)", () => {
  it('does not compile when the build is current, and compiles again once a source changed', () => {
    const dir = projectCopy()
    copies.push(dir)
    const check = () => execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: dir, stdio: 'pipe' })
    const builtAt = () => statSync(join(dir, 'dist', 'server.js')).mtimeMs
    const before = builtAt()

    check()
    expect(builtAt()).toBe(before)

    const later = new Date(Date.now() + 2000)
    utimesSync(join(dir, 'src', 'config.ts'), later, later)
    check()
    expect(builtAt()).toBeGreaterThan(before)
    expect(statSync(join(dir, 'dist', '.built')).mtimeMs).toBeGreaterThanOrEqual(later.getTime() - 1)
  }, 60_000)
})
