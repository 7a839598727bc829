import { describe, expect, it } from 'vitest'
import { markdownFiles, readPage } from './markdown.js'
import { parseShellExample, runShellExample, shows } from './shell-example.js'

const fences = markdownFiles().flatMap((file) => readPage(file).fences.map((fence) => ({ ...fence, file })))
const runnable = (kind: string) => fences.filter((fence) => fence.info === `${kind} test`).map((fence) => [`${fence.file}:${fence.line}`, fence] as const)

describe('the shell examples of the documents', () => {
  it('are there to run', () => {
    expect(runnable('sh').map(([where]) => where)).toEqual(expect.arrayContaining([expect.stringMatching(/^README\.md:/)]))
  })

  it('read `...` in an expectation as anything', () => {
    expect(shows('{"a":1,"b":2}', '{"a":...,"b":2}')).toBe(true)
    expect(shows('{"a":1,"b":2}', '{"b":...,"a":1}')).toBe(false)
  })

  it.each(runnable('sh'))('%s runs as shown', async (_where, fence) => {
    expect(await runShellExample(parseShellExample(fence.content, fence.line + 1))).toEqual([])
  }, 120_000)
})
