import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import GithubSlugger from 'github-slugger'
import MarkdownIt from 'markdown-it'

/** The project's root, where `git ls-files` runs. */
export const ROOT = join(import.meta.dirname, '..', '..')

const markdown = new MarkdownIt({ html: true })

/** Every markdown file in the repository, relative to its root. */
export function markdownFiles (): string[] {
  return execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n').filter((file) => file !== '' && !file.startsWith('node_modules/'))
}

export interface Fence { info: string, content: string, line: number }

export interface Page {
  file: string
  /** The anchors of its headings, as GitHub makes them. */
  anchors: Set<string>
  links: Array<{ href: string, line: number }>
  fences: Fence[]
}

export function readPage (file: string): Page {
  const tokens = markdown.parse(readFileSync(join(ROOT, file), 'utf8'), {})
  const slugger = new GithubSlugger()
  const page: Page = { file, anchors: new Set(), links: [], fences: [] }
  tokens.forEach((token, i) => {
    const line = (token.map?.[0] ?? 0) + 1
    if (token.type === 'heading_open') page.anchors.add(slugger.slug(tokens[i + 1]?.content ?? ''))
    if (token.type === 'fence') page.fences.push({ info: token.info.trim(), content: token.content, line })
    for (const child of token.children ?? []) {
      if (child.type === 'link_open') page.links.push({ href: String(child.attrGet('href') ?? ''), line })
    }
  })
  return page
}
