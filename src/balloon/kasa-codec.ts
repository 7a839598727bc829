/*
 * TP-Link Kasa's local protocol (TCP 9999): each message is a 4-byte
 * big-endian length, then the JSON text XOR-ed with an autokey cipher that
 * starts at 171 and takes each encrypted byte as the next key.
 */

const INITIAL_KEY = 171

export function encrypt (plain: Uint8Array): Buffer {
  const out = Buffer.alloc(plain.length)
  let key = INITIAL_KEY
  for (let i = 0; i < plain.length; i++) {
    key = key ^ (plain[i] as number)
    out[i] = key
  }
  return out
}

export function decrypt (cipher: Uint8Array): Buffer {
  const out = Buffer.alloc(cipher.length)
  let key = INITIAL_KEY
  for (let i = 0; i < cipher.length; i++) {
    out[i] = key ^ (cipher[i] as number)
    key = cipher[i] as number
  }
  return out
}

/** One framed message, ready for the socket. */
export function frame (message: unknown): Buffer {
  const payload = encrypt(Buffer.from(JSON.stringify(message), 'utf8'))
  const header = Buffer.alloc(4)
  header.writeUInt32BE(payload.length)
  return Buffer.concat([header, payload])
}

/** The message in `buffer` once it holds a whole frame; undefined while more bytes are due. */
export function unframe (buffer: Buffer): { message: unknown, rest: Buffer } | undefined {
  if (buffer.length < 4) return undefined
  const length = buffer.readUInt32BE(0)
  if (buffer.length < 4 + length) return undefined
  const message = JSON.parse(decrypt(buffer.subarray(4, 4 + length)).toString('utf8')) as unknown
  return { message, rest: buffer.subarray(4 + length) }
}
