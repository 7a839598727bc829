import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect } from 'vitest'
import { it, type Defer } from './defer.js'

// A project of one source file, with the script and the project's own
// TypeScript: what is tested is when the script compiles, and compiling
// logfire itself would take seconds to say nothing more. The build and
// type-check of the real project are CI steps of their own.
const run = promisify(execFile)

function tinyProject (defer: Defer): string {
  const dir = mkdtempSync(join(tmpdir(), 'logfire-build-'))
  defer(() => { rmSync(dir, { recursive: true, force: true }) })
  mkdirSync(join(dir, 'src'))
  mkdirSync(join(dir, 'scripts'))
  cpSync('scripts/build.mjs', join(dir, 'scripts', 'build.mjs'))
  writeFileSync(join(dir, 'src', 'server.ts'), 'export const port: number = 3000\n')
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'nodenext', target: 'es2022', strict: true, types: [] } }))
  writeFileSync(join(dir, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] }))
  // The real scripts, so that `npm run build` and `npm run prestart` are what a user runs.
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', scripts: { build: scripts.build, prestart: scripts.prestart } }))
  writeFileSync(join(dir, 'package-lock.json'), '{}\n')
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'))
  return dir
}

describe('scripts/build.mjs: `npm run build`, and `npm start`\'s prestart (--if-stale)', () => {
  it('compiles a project never built, once after `npm run build`, and again once a source changed', async ({ defer }) => {
    const dir = tinyProject(defer)
    const npm = async (script: string) => await run('npm', ['run', '--silent', script], { cwd: dir })
    const builtAt = () => statSync(join(dir, 'dist', 'server.js')).mtimeMs

    await npm('prestart')
    expect(readFileSync(join(dir, 'dist', 'server.js'), 'utf8')).toContain('3000')

    // A fresh clone's `npm run build`, then `npm start`: compiled once, not twice.
    rmSync(join(dir, 'dist'), { recursive: true })
    await npm('build')
    const built = builtAt()
    await npm('prestart')
    expect(builtAt()).toBe(built)

    // A source saved since the last build (the stamp set back ten seconds, so
    // that the save is later than it on any file system's clock).
    const past = new Date(Date.now() - 10_000)
    utimesSync(join(dir, 'dist', '.built'), past, past)
    writeFileSync(join(dir, 'src', 'server.ts'), 'export const port: number = 3001\n')
    const savedAt = statSync(join(dir, 'src', 'server.ts')).mtimeMs
    await npm('prestart')
    expect(readFileSync(join(dir, 'dist', 'server.js'), 'utf8')).toContain('3001')
    expect(statSync(join(dir, 'dist', '.built')).mtimeMs).toBeGreaterThanOrEqual(savedAt)
  }, 60_000)
})
