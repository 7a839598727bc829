// npm run docs: writes docs/reference.md from the code (scripts/reference.ts).
import { writeFileSync } from 'node:fs'
import { renderReference } from './reference.js'

writeFileSync(new URL('../docs/reference.md', import.meta.url), await renderReference())
console.log('docs/reference.md written')
