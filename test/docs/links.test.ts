import { existsSync, statSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { describe, expect, it } from 'vitest'
import { markdownFiles, readPage, ROOT, type Page } from './markdown.js'

const pages = new Map<string, Page>(markdownFiles().map((file) => [file, readPage(file)]))

describe('links between the documents', () => {
  it('finds the documents', () => {
    expect([...pages.keys()]).toEqual(expect.arrayContaining(['README.md', 'docs/README.md', 'docs/reference.md', 'SECURITY.md']))
  })

  it.each([...pages.keys()])('%s: every relative link reaches a file, and every anchor a heading', (file) => {
    const broken: string[] = []
    for (const { href, line } of pages.get(file)?.links ?? []) {
      if (/^[a-z][a-z+.-]*:/i.test(href)) continue
      const [path = '', anchor] = href.split('#')
      const target = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)))
      if (!existsSync(join(ROOT, target))) {
        broken.push(`line ${line}: ${href} (no ${target})`)
        continue
      }
      if (anchor === undefined || anchor === '' || statSync(join(ROOT, target)).isDirectory()) continue
      const targetPage = pages.get(target)
      if (targetPage === undefined) continue
      if (!targetPage.anchors.has(decodeURIComponent(anchor))) broken.push(`line ${line}: ${href} (no heading #${anchor} in ${target})`)
    }
    expect(broken).toEqual([])
  })
})
