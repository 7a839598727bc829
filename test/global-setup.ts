import { execFileSync } from 'node:child_process'

// The process tests run the built server, so every test run builds it first,
// whether it was started by `npm test` or by `npx vitest`.
export default function buildOnce (): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' })
}
