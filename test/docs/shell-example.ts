import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnServer } from '../server-process.js'
import { ROOT } from './markdown.js'

/*
 * A fenced `sh test` block of the documents, run as a reader would run it.
 *
 * - `VAR=value ... npm start &` starts logfire, built, with those variables
 *   and nothing else; the block's commands then reach it where they say
 *   localhost:3000 (or 127.0.0.1:3000), on whatever port it got.
 * - Every other line, with its `\` continuations or its here-document, is
 *   one command for bash,
 *   run in a fresh folder (`npm run ...` in the project), with the server's
 *   variables in its environment. It must exit 0. What it leaves running in
 *   the background is stopped at the end of the block.
 * - `# → text` under a command is what its output shows: the command's
 *   output must hold text, where `...` stands for anything.
 */

export interface Step { command: string, expected: string[], line: number }

export interface ShellExample {
  /** The variables of the block's `npm start`; undefined when it starts none. */
  server: Record<string, string> | undefined
  steps: Step[]
}

const START = /^((?:[A-Z][A-Z0-9_]*=\S*\s+)*)npm start\s*&?\s*(?:#.*)?$/

export function parseShellExample (content: string, firstLine: number): ShellExample {
  const example: ShellExample = { server: undefined, steps: [] }
  const lines = content.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim()
    const expectation = /^# → (.*)$/.exec(line)
    if (expectation !== null) {
      const step = example.steps.at(-1)
      if (step === undefined) throw new Error(`line ${firstLine + i}: an expectation before any command`)
      step.expected.push(expectation[1] as string)
      continue
    }
    if (line === '' || line.startsWith('#')) continue
    const start = START.exec(line)
    if (start !== null) {
      example.server = Object.fromEntries((start[1] ?? '').trim().split(/\s+/).filter(Boolean).map((pair) => pair.split('=', 2) as [string, string]))
      continue
    }
    let command = line
    const at = firstLine + i
    while (command.endsWith('\\') && i + 1 < lines.length) command = command.slice(0, -1) + ' ' + (lines[++i] as string).trim()
    // A here-document takes its lines as they are, up to its delimiter.
    const delimiter = /<<-?\s*'?(\w+)'?/.exec(command)?.[1]
    if (delimiter !== undefined) {
      while (i + 1 < lines.length && (lines[i + 1] as string).trim() !== delimiter) command += '\n' + (lines[++i] as string)
      command += '\n' + delimiter
      i++
    }
    example.steps.push({ command, expected: [], line: at })
  }
  return example
}

/** Whether `output` shows `expected`, `...` standing for anything. */
export function shows (output: string, expected: string): boolean {
  let from = 0
  for (const piece of expected.split('...')) {
    const at = output.indexOf(piece, from)
    if (at === -1) return false
    from = at + piece.length
  }
  return true
}

/** logfire built and started as `npm start` does, with these variables and nothing else, on a free port. */
export async function startLogfire (variables: Record<string, string>) {
  const server = spawnServer({ HOME: process.env.HOME ?? '', ...variables })
  const port = new URL(await server.listening).port
  return {
    port,
    stop: async () => {
      if (server.child.exitCode === null) {
        server.child.kill('SIGTERM')
        await server.exited
      }
    }
  }
}

/** One command in bash, in a reader's shell rather than the test runner's: vitest's variables stay out. */
async function runCommand (command: string, cwd: string, variables: Record<string, string>, groups: number[]): Promise<{ status: number | string, output: string }> {
  const child = spawn('bash', ['-c', command], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...variables },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  groups.push(child.pid as number)
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  // The whole process group: bash, npm and what npm started.
  const timer = setTimeout(() => { process.kill(-(child.pid as number), 'SIGKILL') }, 30_000)
  const [code, signal] = await once(child, 'close') as [number | null, string | null]
  clearTimeout(timer)
  return { status: code ?? signal ?? 'unknown', output }
}

/** Runs the example; returns what went wrong, step by step (empty when every step showed what the document says). */
export async function runShellExample (example: ShellExample): Promise<string[]> {
  const problems: string[] = []
  const groups: number[] = []
  const server = example.server === undefined ? undefined : await startLogfire(example.server)
  const folder = mkdtempSync(join(tmpdir(), 'logfire-example-'))
  try {
    for (const step of example.steps) {
      const command = server === undefined ? step.command : step.command.replaceAll(/\b(localhost|127\.0\.0\.1):3000\b/g, `127.0.0.1:${server.port}`)
      const run = await runCommand(command, command.startsWith('npm ') ? ROOT : folder, example.server ?? {}, groups)
      const output = run.output.replaceAll('\r\n', '\n')
      if (run.status !== 0) problems.push(`line ${step.line}: \`${step.command}\` exited ${run.status}: ${output.slice(0, 500)}`)
      for (const expected of step.expected) {
        if (!shows(output, expected)) problems.push(`line ${step.line}: \`${step.command}\` does not show ${expected}; it showed: ${output.slice(0, 800)}`)
      }
    }
  } finally {
    for (const group of groups) {
      try { process.kill(-group, 'SIGTERM') } catch { /* already gone */ }
    }
    await server?.stop()
    rmSync(folder, { recursive: true, force: true })
  }
  return problems
}
