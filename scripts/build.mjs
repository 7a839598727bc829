// Compiles src/ into dist/ and leaves a stamp there. With --if-stale (`npm
// start`'s prestart, the tests' setup, the bench) it compiles only when a
// source changed since the last build, so a speaker's restart on stage is
// listening within two seconds, and a `npm run build` before it is not paid
// for twice. Plain JavaScript: it runs before anything is compiled.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// Written after a successful build: its time is the build's.
const STAMP = join('dist', '.built')
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']

// Files only: a directory's own time changes with copies and checkouts.
function newest (path) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0
const stale = () => Math.max(...INPUTS.map(newest)) >= built
if (!process.argv.includes('--if-stale') || stale()) {
  execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
  writeFileSync(STAMP, `${new Date().toISOString()}\n`)
}
