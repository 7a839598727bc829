// `npm start`'s prestart: compiles only when a source changed since the last
// build, so a speaker's restart on stage is listening within two seconds.
// Plain JavaScript: it runs before anything is compiled. `npm run build`
// (plain tsc, as the Docker image's build stage runs it) leaves no stamp, so
// the next `npm start` after it compiles once more.
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
if (Math.max(...INPUTS.map(newest)) >= built) {
  execFileSync(process.execPath, [join('node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
  writeFileSync(STAMP, `${new Date().toISOString()}\n`)
}
