import { MAX_DEPTH } from './msgpack-extent.js'

/*
 * MessagePack straight to JSON text, without building the JavaScript
 * values in between: strings are read by Buffer's own UTF-8 decoder and
 * escaped by JSON.stringify, both native. A Forward chunk of a thousand
 * events costs a fraction of decoding it and serialising the result.
 */

/**
 * Reads values one after another from `bytes`. `json()` gives the JSON
 * text of the next value and moves past it; undefined when it holds
 * something JSON has no form for (bin, ext, a key that is not a string, a
 * float that is not finite) or is cut short: the caller then takes the slow
 * way, which says which.
 */
export class MsgpackToJson {
  at = 0
  readonly #b: Buffer

  constructor (bytes: Buffer) {
    this.#b = bytes
  }

  json (depth = 0): string | undefined {
    const b = this.#b
    const at = this.at
    if (at >= b.length || depth > MAX_DEPTH) return undefined
    const type = b[at] as number
    this.at = at + 1
    if (type <= 0x7f) return String(type)
    if (type >= 0xe0) return String(type - 0x100)
    if (type <= 0x8f) return this.#map(type & 0x0f, depth)
    if (type <= 0x9f) return this.#array(type & 0x0f, depth)
    if (type <= 0xbf) return this.#str(type & 0x1f)
    if (type === 0xc0) return 'null'
    if (type === 0xc2) return 'false'
    if (type === 0xc3) return 'true'
    const size = SIZES[type - 0xc0] ?? 0
    if (size === 0 || at + 1 + size > b.length) return undefined
    this.at = at + 1 + size
    switch (type) {
      case 0xca: return finite(b.readFloatBE(at + 1))
      case 0xcb: return finite(b.readDoubleBE(at + 1))
      case 0xcc: return String(b[at + 1] as number)
      case 0xcd: return String(b.readUInt16BE(at + 1))
      case 0xce: return String(b.readUInt32BE(at + 1))
      case 0xcf: return String(Number(b.readBigUInt64BE(at + 1)))
      case 0xd0: return String(b.readInt8(at + 1))
      case 0xd1: return String(b.readInt16BE(at + 1))
      case 0xd2: return String(b.readInt32BE(at + 1))
      case 0xd3: return String(Number(b.readBigInt64BE(at + 1)))
      case 0xd9: return this.#str(b[at + 1] as number)
      case 0xda: return this.#str(b.readUInt16BE(at + 1))
      case 0xdb: return this.#str(b.readUInt32BE(at + 1))
      case 0xdc: return this.#array(b.readUInt16BE(at + 1), depth)
      case 0xdd: return this.#array(b.readUInt32BE(at + 1), depth)
      case 0xde: return this.#map(b.readUInt16BE(at + 1), depth)
      case 0xdf: return this.#map(b.readUInt32BE(at + 1), depth)
    }
    return undefined
  }

  #str (length: number): string | undefined {
    const start = this.at
    const end = start + length
    if (end > this.#b.length) return undefined
    this.at = end
    const text = this.#b.toString('utf8', start, end)
    // Most text needs no escaping: a native scan says so faster than JSON.stringify escapes it.
    return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : '"' + text + '"'
  }

  #array (count: number, depth: number): string | undefined {
    if (count > this.#b.length - this.at) return undefined
    let json = '['
    for (let i = 0; i < count; i++) {
      const item = this.json(depth + 1)
      if (item === undefined) return undefined
      json += i === 0 ? item : ',' + item
    }
    return json + ']'
  }

  #map (count: number, depth: number): string | undefined {
    if (count * 2 > this.#b.length - this.at) return undefined
    let json = '{'
    for (let i = 0; i < count; i++) {
      // JSON keys are strings: any other key takes the slow way.
      const keyType = this.#b[this.at] as number
      if (!((keyType >= 0xa0 && keyType <= 0xbf) || keyType === 0xd9 || keyType === 0xda || keyType === 0xdb)) return undefined
      const key = this.json(depth + 1)
      if (key === undefined) return undefined
      const value = this.json(depth + 1)
      if (value === undefined) return undefined
      json += i === 0 ? key + ':' + value : ',' + key + ':' + value
    }
    return json + '}'
  }
}

// Bytes after the type byte, 0xc0 to 0xdf: the value itself, or the size field before it. 0 is a type JSON has no form for.
const SIZES = [
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 0xc0-0xc9: nil, (unused), false, true, bin, ext
  4, 8, 1, 2, 4, 8, 1, 2, 4, 8, // 0xca-0xd3: floats, unsigned and signed integers
  0, 0, 0, 0, 0, // 0xd4-0xd8: fixext
  1, 2, 4, 2, 4, 2, 4 // 0xd9-0xdf: str8-32 sizes, array16/32, map16/32
]

// What JSON.stringify would escape: quotes, backslashes, control characters, lone surrogates.
// eslint-disable-next-line no-control-regex -- the control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

const finite = (value: number): string | undefined => Number.isFinite(value) ? String(value) : undefined
