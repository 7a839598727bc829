import { TOKEN_PREFIXES } from '../fires/tokens.js'

/** A syslog message with the fire's token it carried, and the message as stored: without it. */
export interface Tokened { token: string, message: string }

const TOKEN = `${TOKEN_PREFIXES.ingest}[A-Za-z0-9_-]{48}`
// Rapid7's token TCP: the token, then the line.
const AT_START = new RegExp(`^(${TOKEN}) `)
// RFC 5424: <PRI>VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID, then the structured data.
const HEADER_5424 = /^<\d{1,3}>\d{1,2} \S+ \S+ \S+ \S+ \S+ /
// One SD element: [ID param="value"...], where a value may hold \" \] and \\.
const SD_ELEMENT = /^\[(?:[^\]"\\]|"(?:[^"\\]|\\.)*")*\]/
// Ours: [logfire token="..."], or with an enterprise number, as RFC 5424 asks of private SD-IDs.
const OURS = new RegExp(`^\\[logfire(?:@\\d+)? token="(${TOKEN})"\\]$`)
const FIRST_WORD = new RegExp(`^(\\uFEFF?)(${TOKEN})(?: |$)`)
// RFC 3164: <PRI>TIMESTAMP HOSTNAME TAG[PID]: MSG, the timestamp as the RFC has it or as RFC 3339 (rsyslog's, syslog-ng's ISO option).
const HEADER_3164 = /^<\d{1,3}>(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d |\d{4}-\d\d-\d\dT\S+ )\S+ [^\s:[]{1,48}(?:\[[^\]\s]{0,32}\])?: /

/**
 * The fire's ingest token a syslog message carries, where shippers can put
 * one without a change of protocol, and the message without it (a token in
 * the chain would be shown to every viewer):
 * - first in the line, as Rapid7's token TCP takes it;
 * - an RFC 5424 SD element `[logfire token="..."]` (or `logfire@<PEN>`);
 * - the first word of the message, after the header (RFC 5424 or 3164).
 * Undefined when it carries none: the message goes to the public fire.
 */
export function fireTokenOf (message: string): Tokened | undefined {
  // Cheap refusal first: most messages carry no token.
  if (!message.includes(TOKEN_PREFIXES.ingest)) return undefined
  const atStart = AT_START.exec(message)
  if (atStart !== null) return { token: atStart[1] as string, message: message.slice(atStart[0].length) }
  const header = HEADER_5424.exec(message)
  if (header !== null) return from5424(message, header[0].length)
  const tag = HEADER_3164.exec(message)
  if (tag !== null) return firstWord(message, tag[0].length)
  return undefined
}

function from5424 (message: string, at: number): Tokened | undefined {
  if (message.startsWith('-', at)) return firstWord(message, at + 2)
  let end = at
  let token: string | undefined
  const kept: string[] = []
  for (;;) {
    const element = SD_ELEMENT.exec(message.slice(end))
    if (element === null) break
    const ours = OURS.exec(element[0])
    if (ours !== null && token === undefined) token = ours[1]
    else kept.push(element[0])
    end += element[0].length
  }
  if (token === undefined) return message[end] === ' ' ? firstWord(message, end + 1) : undefined
  const structuredData = kept.length === 0 ? '-' : kept.join('')
  return { token, message: message.slice(0, at) + structuredData + message.slice(end) }
}

function firstWord (message: string, at: number): Tokened | undefined {
  const word = FIRST_WORD.exec(message.slice(at))
  if (word === null) return undefined
  const [whole, bom, token] = word as unknown as [string, string, string]
  return { token, message: message.slice(0, at) + bom + message.slice(at + whole.length) }
}
