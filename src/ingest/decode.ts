import { brotliDecompressSync, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib'
import { BodyTooLarge, CorruptEncoding, UnsupportedEncoding } from '../errors.js'

type Decoder = (body: Buffer, options: ZlibOptions) => Buffer

// HTTP's "deflate" is zlib-wrapped, but enough clients send raw deflate that both are read.
const inflateEither: Decoder = (body, options) => {
  try {
    return inflateSync(body, options)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw error
    return inflateRawSync(body, options)
  }
}

const DECODERS: Record<string, Decoder> = {
  gzip: gunzipSync,
  'x-gzip': gunzipSync,
  deflate: inflateEither,
  br: brotliDecompressSync
}

/**
 * Undoes Content-Encoding, last applied first. maxOutputLength caps the
 * decoded size, so a zip bomb costs at most maxBytes of memory and gets 413.
 */
export function decodeBody (body: Buffer, contentEncoding: string | undefined, maxBytes: number): Buffer {
  const codings = (contentEncoding ?? '')
    .split(',')
    .map((coding) => coding.trim().toLowerCase())
    .filter((coding) => coding !== '' && coding !== 'identity')

  let decoded = body
  for (const coding of codings.reverse()) {
    const decoder = DECODERS[coding]
    if (decoder === undefined) throw new UnsupportedEncoding(coding)
    try {
      decoded = decoder(decoded, { maxOutputLength: maxBytes })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw new BodyTooLarge(maxBytes)
      throw new CorruptEncoding(coding, (error as Error).message)
    }
  }
  return decoded
}
