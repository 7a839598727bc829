/**
 * Splits JSON objects written back to back, with or without whitespace
 * between them (Fluent Bit's json_stream, Splunk HEC), in one pass that
 * tracks only strings and nesting; JSON.parse then checks each piece. Text
 * outside an object is yielded as it is, so that JSON.parse reports it.
 */
export function * backToBackObjects (text: string): Generator<string> {
  let i = skipWhitespace(text, 0)
  while (i < text.length) {
    const end = text[i] === '{' ? objectEnd(text, i) : text.length
    yield text.slice(i, end)
    i = skipWhitespace(text, end)
  }
}

function skipWhitespace (text: string, from: number): number {
  let i = from
  while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++
  return i
}

/** The index after the `}` that closes the object opened at `start`, or the end of the text. */
function objectEnd (text: string, start: number): number {
  let depth = 0
  let inString = false
  for (let i = start; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
    } else if (c === '{' || c === '[') {
      depth++
    } else if ((c === '}' || c === ']') && --depth === 0) {
      return i + 1
    }
  }
  return text.length
}
