import { execFileSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

// A project of one source file, with the script and the project's own
// TypeScript: what is tested is when the script compiles, and compiling
// logfire itself would take seconds to say nothing more. The build and
// type-check of the real project are CI steps of their own.
function tinyProject (): string {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-build-'))
  mkdirSync(join(dir, 'src'))
  mkdirSync(join(dir, 'scripts'))
  cpSync('scripts/build-if-stale.mjs', join(dir, 'scripts', 'build-if-stale.mjs'))
  writeFileSync(join(dir, 'src', 'server.ts'), 'export const port: number = 3000\n')
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, types: [] } }))
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] }))
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(dir, 'package-lock.json'), '{}\n')
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'))
  return dir
}

const copies: string[] = []
afterEach(() => { for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true }) })

describe("npm start's prestart (scripts/build-if-stale.mjs)", () => {
  it('compiles a project never built, not again while the build is current, and again once a source changed', () => {
    const dir = tinyProject()
    copies.push(dir)
    const check = () => execFileSync(process.execPath, ['scripts/build-if-stale.mjs'], { cwd: dir, stdio: 'pipe' })
    const builtAt = () => statSync(join(dir, 'dist', 'server.js')).mtimeMs

    check()
    const before = builtAt()
    check()
    expect(builtAt()).toBe(before)

    // A source saved since the last build (the stamp set back ten seconds, so
    // that the save is later than it on any file system's clock).
    const past = new Date(Date.now() - 10_000)
    utimesSync(join(dir, 'dist', '.built'), past, past)
    writeFileSync(join(dir, 'src', 'server.ts'), 'export const port: number = 3001\n')
    const savedAt = statSync(join(dir, 'src', 'server.ts')).mtimeMs
    check()
    expect(readFileSync(join(dir, 'dist', 'server.js'), 'utf8')).toContain('3001')
    expect(statSync(join(dir, 'dist', '.built')).mtimeMs).toBeGreaterThanOrEqual(savedAt)
  }, 60_000)
})
