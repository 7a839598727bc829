import { describe, expect, it } from 'vitest'
import { SyslogFramer, withoutTrailer } from '../../src/listeners/framing.js'

function frames (framer: SyslogFramer, ...chunks: string[]) {
  const out: Array<string | { problem: string }> = []
  for (const chunk of chunks) {
    framer.push(Buffer.from(chunk))
    for (let frame = framer.next(); frame !== undefined; frame = framer.next()) {
      if (!Buffer.isBuffer(frame)) {
        out.push({ problem: frame.problem })
        return out
      }
      out.push(frame.toString())
    }
  }
  return out
}

describe('syslog framing over TCP (RFC 6587), decided per frame', () => {
  it('reads LF-terminated frames, tolerating CR LF and NUL trailers', () => {
    expect(frames(new SyslogFramer('detect', 1024), '<13>one\n<13>two\r\n<13>three\0')).toEqual(['<13>one', '<13>two', '<13>three'])
  })

  it('reads octet-counted frames, and mixes both framings on one connection', () => {
    expect(frames(new SyslogFramer('detect', 1024), '7 <13>one<13>two\n9 <13>three')).toEqual(['<13>one', '<13>two', '<13>three'])
  })

  it("stores an octet-counted frame without the LF syslog-ng's syslog() counts in it", () => {
    expect(frames(new SyslogFramer('detect', 1024), '8 <13>one\n8 <13>two\n')).toEqual(['<13>one', '<13>two'])
  })

  it('waits for a frame split anywhere, count and message alike', () => {
    const framer = new SyslogFramer('detect', 1024)
    expect(frames(framer, '1', '5 <13>', 'hello w', 'orld<13>li', 'ne', '\n')).toEqual(['<13>hello world', '<13>line'])
  })

  it('keeps an unfinished frame out, and says how many bytes it holds', () => {
    const framer = new SyslogFramer('detect', 1024)
    expect(frames(framer, '<13>whole\n<13>half a li')).toEqual(['<13>whole'])
    expect(framer.buffered).toBe('<13>half a li'.length)
  })

  it('refuses an octet count over the limit as soon as its digits say so, without buffering the frame', () => {
    expect(frames(new SyslogFramer('detect', 1000), '1001 ')).toEqual([{ problem: 'frame-too-long' }])
    expect(frames(new SyslogFramer('detect', 65536), '2147483648')).toEqual([{ problem: 'frame-too-long' }])
    expect(frames(new SyslogFramer('detect', 65536), '9'.repeat(10_000))).toEqual([{ problem: 'frame-too-long' }])
  })

  it('refuses an LF frame longer than the limit once it is past it', () => {
    const framer = new SyslogFramer('detect', 100)
    expect(frames(framer, '<13>' + 'x'.repeat(96))).toEqual([])
    expect(frames(framer, 'xxxx')).toEqual([{ problem: 'frame-too-long' }])
  })

  it('refuses a count with a leading zero or junk after the digits', () => {
    expect(frames(new SyslogFramer('detect', 1000), '07 <13>one')).toEqual([{ problem: 'bad-octet-count' }])
    expect(frames(new SyslogFramer('detect', 1000), '12x <13>one')).toEqual([{ problem: 'bad-octet-count' }])
  })

  it('takes octet counting only over TLS (RFC 5425)', () => {
    expect(frames(new SyslogFramer('octet-counting', 1000), '7 <13>one')).toEqual(['<13>one'])
    expect(frames(new SyslogFramer('octet-counting', 1000), '<13>one\n')).toEqual([{ problem: 'bad-octet-count' }])
  })

  it('strips a datagram\'s trailer, and nothing else', () => {
    expect(withoutTrailer(Buffer.from('<13>one\r\n')).toString()).toBe('<13>one')
    expect(withoutTrailer(Buffer.from('<13>one\0')).toString()).toBe('<13>one')
    expect(withoutTrailer(Buffer.from('<13>one')).toString()).toBe('<13>one')
  })
})
