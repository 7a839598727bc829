/*
 * CloudWatch Logs filter patterns, so that a CIS Benchmark pattern pastes in
 * unchanged. Parsed once into a matcher; matching is linear in the entry.
 *
 * JSON patterns, for JSON entries:
 *   { $.eventName = "ConsoleLogin" && ($.errorCode = "*Unauthorized*" || $.latency > 500) }
 *   selectors $.a.b and $.a[0]; = and != on strings (with * wildcards) and
 *   numbers; <, <=, >, >= on numbers; IS NULL, NOT EXISTS, IS TRUE, IS FALSE;
 *   && and || (&& binds tighter) and parentheses.
 * Term patterns, for any entry's text:
 *   ERROR                 contains ERROR (case-sensitive)
 *   ERROR Exception       contains both
 *   ?ERROR ?WARN          contains either
 *   ERROR -Retry          contains ERROR and not Retry
 *   "exact phrase"        contains the phrase
 *
 * A comparison on a field that is missing is false, whatever the operator:
 * `$.a != "x"` does not match an entry without `a`. That is why the CIS
 * patterns say `NOT EXISTS` when they mean it. Use NOT EXISTS, or
 * `($.a != "x" || $.a NOT EXISTS)`, to include missing fields.
 */

export class FilterPatternError extends Error {
  override name = 'FilterPatternError'
  constructor (message: string, readonly column: number) {
    super(`${message} at column ${column}`)
  }
}

/**
 * A parsed pattern: true when an entry matches. `json` is the entry already
 * parsed, or NOT_JSON, so that many rules share one JSON.parse.
 */
export type Matcher = (entry: string, json?: unknown) => boolean

type Path = Array<string | number>
type JsonTest = (root: unknown) => boolean
/**
 * A test, and the top-level fields an entry must hold one of for it to
 * pass; `needs` undefined: it can pass without any (NOT EXISTS).
 */
interface Clause { test: JsonTest, needs: ReadonlySet<string> | undefined }

const MISSING = Symbol('missing')
/** What to pass as a Matcher's `json` for an entry that is not a JSON object. */
export const NOT_JSON: unknown = MISSING

/** Whether an entry's text begins as a JSON object would: only then is it parsed. */
export function opensObject (entry: string): boolean {
  return entry[entry.search(/\S/)] === '{'
}

/** The entry as a JSON value, or NOT_JSON; what a Matcher would parse for itself. */
export function readJson (entry: string): unknown {
  if (!opensObject(entry)) return MISSING
  try {
    return JSON.parse(entry)
  } catch {
    return MISSING
  }
}

/** A pattern parsed once: its matcher, whether it reads JSON fields, and which. */
export interface CompiledPattern {
  matches: Matcher
  json: boolean
  /**
   * The top-level fields a JSON entry must name one of to match; undefined
   * when it can match without any, or the pattern is not a JSON one. An
   * entry whose text holds none of them as "field" (and no escape, which
   * could spell one) need not be parsed for it.
   */
  needs: readonly string[] | undefined
}

export function compileFilterPattern (pattern: string): CompiledPattern {
  const trimmed = pattern.trim()
  if (trimmed === '') return { matches: () => true, json: false, needs: undefined }
  if (trimmed.startsWith('{')) {
    const { test, needs } = new JsonPatternParser(pattern).parse()
    const matches: Matcher = (entry, json) => {
      const root = json === undefined ? readJson(entry) : json
      return root !== MISSING && test(root)
    }
    return { matches, json: true, needs: needs === undefined ? undefined : [...needs] }
  }
  if (trimmed.startsWith('[')) throw new FilterPatternError('space-delimited patterns ([a, b, ...]) are not supported; use terms or a JSON pattern', pattern.indexOf('[') + 1)
  return { matches: parseTermPattern(pattern), json: false, needs: undefined }
}

// ------------------------------------------------------------------- terms

function parseTermPattern (pattern: string): Matcher {
  const required: string[] = []
  const optional: string[] = []
  const excluded: string[] = []
  const term = /\s*([?-]?)(?:"((?:[^"\\]|\\.)*)"|([^\s"]+))/y
  let position = 0
  while (position < pattern.length) {
    if (/^\s*$/.test(pattern.slice(position))) break
    term.lastIndex = position
    const match = term.exec(pattern)
    if (match === null) throw new FilterPatternError('unterminated quoted term', pattern.indexOf('"', position) + 1)
    const text = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3] as string
    if (text === '') throw new FilterPatternError('empty term', position + 1)
    const list = match[1] === '?' ? optional : match[1] === '-' ? excluded : required
    list.push(text)
    position = term.lastIndex
  }
  return (entry) =>
    required.every((t) => entry.includes(t)) &&
    (optional.length === 0 || optional.some((t) => entry.includes(t))) &&
    !excluded.some((t) => entry.includes(t))
}

// -------------------------------------------------------------------- JSON

type Token =
  | { kind: 'punct', text: '{' | '}' | '(' | ')' | '&&' | '||' | '=' | '!=' | '<' | '<=' | '>' | '>=', column: number }
  | { kind: 'selector', path: Path, text: string, column: number }
  | { kind: 'string', text: string, column: number }
  | { kind: 'word', text: string, column: number }

const PUNCTUATION = ['&&', '||', '!=', '<=', '>=', '{', '}', '(', ')', '=', '<', '>'] as const

function tokenize (pattern: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < pattern.length) {
    const c = pattern[i] as string
    if (/\s/.test(c)) { i++; continue }
    const column = i + 1
    const punct = PUNCTUATION.find((p) => pattern.startsWith(p, i))
    if (punct !== undefined) {
      tokens.push({ kind: 'punct', text: punct, column })
      i += punct.length
    } else if (c === '"') {
      let text = ''
      let j = i + 1
      for (; j < pattern.length && pattern[j] !== '"'; j++) {
        if (pattern[j] === '\\' && j + 1 < pattern.length) j++
        text += pattern[j]
      }
      if (j >= pattern.length) throw new FilterPatternError('unterminated string', column)
      tokens.push({ kind: 'string', text, column })
      i = j + 1
    } else if (c === '$') {
      const match = /^\$((?:\.[A-Za-z0-9_@:-]+|\[\d+\])*)/.exec(pattern.slice(i)) as RegExpExecArray
      if (match[1] === '') throw new FilterPatternError('a selector needs a field after $, as in $.eventName', column)
      const path: Path = [...(match[1] as string).matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((m) => m[1] ?? Number(m[2]))
      tokens.push({ kind: 'selector', path, text: match[0], column })
      i += match[0].length
    } else {
      const match = /^[^\s"(){}&|=!<>]+/.exec(pattern.slice(i))
      if (match === null) throw new FilterPatternError(`unexpected "${c}"`, column)
      tokens.push({ kind: 'word', text: match[0], column })
      i += match[0].length
    }
  }
  return tokens
}

class JsonPatternParser {
  readonly #tokens: Token[]
  #next = 0
  readonly #end: number

  constructor (pattern: string) {
    this.#tokens = tokenize(pattern)
    this.#end = pattern.length + 1
  }

  parse (): Clause {
    this.#expect('{')
    const clause = this.#or()
    this.#expect('}')
    const extra = this.#peek()
    if (extra !== undefined) throw new FilterPatternError(`unexpected "${tokenText(extra)}" after the closing }`, extra.column)
    return clause
  }

  #peek (): Token | undefined { return this.#tokens[this.#next] }

  #column (): number { return this.#peek()?.column ?? this.#end }

  #isPunct (text: string): boolean {
    const token = this.#peek()
    return token?.kind === 'punct' && token.text === text
  }

  #expect (text: string): void {
    if (!this.#isPunct(text)) {
      const token = this.#peek()
      throw new FilterPatternError(`expected "${text}"${token === undefined ? ' before the end' : `, found "${tokenText(token)}"`}`, this.#column())
    }
    this.#next++
  }

  #or (): Clause {
    const clauses = [this.#and()]
    while (this.#isPunct('||')) { this.#next++; clauses.push(this.#and()) }
    if (clauses.length === 1) return clauses[0] as Clause
    const tests = clauses.map(({ test }) => test)
    // Any one passing is enough: it needs one of the fields any of them needs.
    const needs = clauses.some(({ needs }) => needs === undefined) ? undefined : new Set(clauses.flatMap(({ needs }) => [...needs as ReadonlySet<string>]))
    return { test: (root) => tests.some((test) => test(root)), needs }
  }

  #and (): Clause {
    const clauses = [this.#unary()]
    while (this.#isPunct('&&')) { this.#next++; clauses.push(this.#unary()) }
    if (clauses.length === 1) return clauses[0] as Clause
    const tests = clauses.map(({ test }) => test)
    // All must pass: what any one of them needs will do; the narrowest is the cheapest to look for.
    const needs = clauses.map(({ needs }) => needs).filter((fields) => fields !== undefined).sort((a, b) => a.size - b.size)[0]
    return { test: (root) => tests.every((test) => test(root)), needs }
  }

  #unary (): Clause {
    if (this.#isPunct('(')) {
      this.#next++
      const clause = this.#or()
      this.#expect(')')
      return clause
    }
    return this.#comparison()
  }

  #comparison (): Clause {
    const selector = this.#peek()
    if (selector?.kind !== 'selector') throw new FilterPatternError(`expected a selector such as $.eventName${selector === undefined ? '' : `, found "${tokenText(selector)}"`}`, this.#column())
    this.#next++
    const at = (root: unknown) => select(root, selector.path)
    // Every test but NOT EXISTS fails on a missing field. An entry is an
    // object, so a path that starts with an index never passes: it needs a
    // field no entry has.
    const first = selector.path[0]
    const needs = new Set(typeof first === 'string' ? [first] : [])

    const next = this.#peek()
    if (next?.kind === 'word') {
      const keyword = next.text.toUpperCase()
      this.#next++
      const second = this.#peek()
      const word = second?.kind === 'word' ? second.text.toUpperCase() : undefined
      if (keyword === 'IS' && (word === 'NULL' || word === 'TRUE' || word === 'FALSE')) {
        this.#next++
        const wanted = word === 'NULL' ? null : word === 'TRUE'
        return { test: (root) => at(root) === wanted, needs }
      }
      if (keyword === 'NOT' && word === 'EXISTS') {
        this.#next++
        return { test: (root) => at(root) === MISSING, needs: undefined }
      }
      throw new FilterPatternError(`expected an operator, IS NULL, IS TRUE, IS FALSE or NOT EXISTS after ${selector.text}`, next.column)
    }
    if (next?.kind !== 'punct' || !['=', '!=', '<', '<=', '>', '>='].includes(next.text)) {
      throw new FilterPatternError(`expected an operator after ${selector.text}`, this.#column())
    }
    this.#next++
    const valueToken = this.#peek()
    if (valueToken === undefined || (valueToken.kind !== 'string' && valueToken.kind !== 'word')) {
      throw new FilterPatternError(`expected a value after ${next.text}`, this.#column())
    }
    this.#next++
    return { test: compare(at, next.text, valueToken), needs }
  }
}

function compare (at: (root: unknown) => unknown, operator: string, value: Token & { kind: 'string' | 'word' }): JsonTest {
  const number = value.kind === 'word' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value.text) ? Number(value.text) : undefined
  if (operator !== '=' && operator !== '!=') {
    if (number === undefined) throw new FilterPatternError(`${operator} compares numbers, not "${value.text}"`, value.column)
    const holds = {
      '<': (x: number) => x < number,
      '<=': (x: number) => x <= number,
      '>': (x: number) => x > number,
      '>=': (x: number) => x >= number
    }[operator] as (x: number) => boolean
    return (root) => {
      const field = at(root)
      return typeof field === 'number' && holds(field)
    }
  }
  const equals = number !== undefined
    ? (field: unknown) => field === number || field === value.text
    : wildcard(value.text)
  const negate = operator === '!='
  return (root) => {
    const field = at(root)
    if (field === MISSING || (typeof field === 'object' && field !== null)) return false
    return equals(field) !== negate
  }
}

/** String equality where each * stands for any run of characters. Linear: literal pieces are found left to right. */
function wildcard (pattern: string): (field: unknown) => boolean {
  const pieces = pattern.split('*')
  if (pieces.length === 1) return (field) => field === pattern
  const first = pieces[0] as string
  const last = pieces[pieces.length - 1] as string
  const middle = pieces.slice(1, -1)
  return (field) => {
    if (typeof field !== 'string') return false
    if (field.length < first.length + last.length || !field.startsWith(first) || !field.endsWith(last)) return false
    let position = first.length
    const end = field.length - last.length
    for (const piece of middle) {
      const found = field.indexOf(piece, position)
      if (found === -1 || found + piece.length > end) return false
      position = found + piece.length
    }
    return true
  }
}

function select (root: unknown, path: Path): unknown {
  let value = root
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(value) || key >= value.length) return MISSING
      value = value[key]
    } else {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, key)) return MISSING
      value = (value as Record<string, unknown>)[key]
    }
  }
  return value
}

function tokenText (token: Token): string {
  return token.kind === 'selector' ? token.text : token.text
}
