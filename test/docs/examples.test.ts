import { spawnSync } from 'node:child_process'
import { parse as parseToml } from 'smol-toml'
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { omrelpMissing, rsyslogStreamMissing, syslogNgStreamMissing } from '../e2e/shippers/stream-shippers.js'
import { syslogNgMissing } from '../e2e/shippers/syslog-ng.js'
import { configFence, runConfigExample, type Shipper } from './config-example.js'
import { markdownFiles, readPage } from './markdown.js'
import { parseShellExample, runShellExample, shows } from './shell-example.js'

const fences = markdownFiles().flatMap((file) => readPage(file).fences.map((fence) => ({ ...fence, file, where: `${file}:${fence.line}` })))
const shellExamples = fences.filter((fence) => fence.info === 'sh test')
const configExamples = fences.flatMap((fence) => {
  const runnable = configFence(fence.info)
  return runnable === undefined ? [] : [{ ...fence, ...runnable }]
})

// The commands the shell examples use beyond curl, with their Debian packages.
const TOOLS: Record<string, string> = { jq: 'jq', logger: 'bsdutils', openssl: 'openssl', 'syslog-ng': 'syslog-ng-core and syslog-ng-mod-http' }
const absent = new Set(Object.keys(TOOLS).filter((tool) => spawnSync('bash', ['-c', `command -v ${tool}`]).status !== 0))
const toolsMissing = (content: string): string | undefined => {
  const packages = [...absent].filter((tool) => new RegExp(`\\b${tool}\\b`).test(content)).map((tool) => TOOLS[tool])
  return packages.length === 0 ? undefined : packages.join(', ')
}

/** Why a shipper cannot run here (the test is then skipped, naming the package), if it cannot. */
function missing (shipper: Shipper, content: string): string | undefined {
  if (shipper === 'syslog-ng') return /\bhttp\s*\(/.test(content) ? syslogNgMissing : syslogNgStreamMissing
  if (shipper === 'rsyslog') return /omrelp/.test(content) ? omrelpMissing : rsyslogStreamMissing
  return undefined
}

describe('the examples of the documents', () => {
  it('are there to run: the tour, and configurations of syslog-ng, rsyslog and the Node.js clients', () => {
    expect(shellExamples.map((fence) => fence.where)).toEqual(expect.arrayContaining([expect.stringMatching(/^README\.md:/)]))
    expect(new Set(configExamples.map((fence) => fence.shipper))).toEqual(new Set(['syslog-ng', 'rsyslog', 'js']))
  })

  it('read `...` in an expectation as anything', () => {
    expect(shows('{"a":1,"b":2}', '{"a":...,"b":2}')).toBe(true)
    expect(shows('{"a":1,"b":2}', '{"b":...,"a":1}')).toBe(false)
  })

  // Examples on their own free ports run side by side; those that open a
  // listener on the documented port (5514, 2514, 12201) take turns.
  const onFixedPorts = (variables: Record<string, string> | undefined) => Object.keys(variables ?? {}).some((variable) => variable.endsWith('_PORT'))
  const shell = shellExamples.map((fence) => {
    const example = parseShellExample(fence.content, fence.line + 1)
    const why = toolsMissing(fence.content)
    return { fixed: onFixedPorts(example.server), why, title: `${fence.where} runs as shown${why === undefined ? '' : ` (skipped: Debian package ${why} missing; .ci/run installs it)`}`, run: async () => await runShellExample(example) }
  })
  const configs = configExamples.map((fence) => {
    const why = missing(fence.shipper, fence.content)
    return { fixed: onFixedPorts(fence.variables), why, title: `${fence.where}: ${fence.shipper} ships to logfire with it${why === undefined ? '' : ` (skipped: ${why} missing)`}`, run: async () => await runConfigExample(fence.shipper, fence.content, fence.variables) }
  })
  const examples = [...shell, ...configs]

  describe.concurrent('on free ports', () => {
    for (const example of examples.filter((candidate) => !candidate.fixed)) {
      it.skipIf(example.why !== undefined)(example.title, async ({ expect }) => { expect(await example.run()).toEqual([]) }, 120_000)
    }
  })

  describe('on the documented ports', () => {
    for (const example of examples.filter((candidate) => candidate.fixed)) {
      it.skipIf(example.why !== undefined)(example.title, async () => { expect(await example.run()).toEqual([]) }, 120_000)
    }
  })

  // What cannot run here (Fluent Bit, Vector, the Collector, Filebeat) is at least well formed.
  const parsers: Record<string, (text: string) => unknown> = { toml: parseToml, yaml: parseYaml, json: JSON.parse }
  it.each(fences.filter((fence) => fence.info in parsers).map((fence) => [fence.where, fence] as const))('%s parses', (_where, fence) => {
    expect(() => parsers[fence.info]?.(fence.content)).not.toThrow()
  })
})
