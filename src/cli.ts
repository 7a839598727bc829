#!/usr/bin/env node
// `logfire`: the server, or `logfire canary ...` (see src/canary/).
const [command, ...args] = process.argv.slice(2)

if (command === 'canary') {
  const { runCanary } = await import('./canary/canary.js')
  process.exitCode = await runCanary(args)
} else if (command === undefined || command === 'serve') {
  await import('./server.js')
} else {
  process.stderr.write(`logfire: unknown command "${command}"; try "logfire" (the server) or "logfire canary --help"\n`)
  process.exitCode = 2
}
