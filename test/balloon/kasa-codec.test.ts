import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decrypt, encrypt, frame, unframe } from '../../src/balloon/kasa-codec.js'

// The reference test vectors: whole TCP frames, in hex.
const VECTORS: Array<[unknown, string]> = [
  [{ system: { get_sysinfo: {} } }, '0000001dd0f281f88bff9af7d5ef94b6d1b4c09fec95e68fe187e8caf08bf68bf6'],
  [{ system: { set_relay_state: { state: 1 } } }, '0000002ad0f281f88bff9af7d5ef94b6c5a0d48bf99cf091e8b7c4b0d1a5c0e2d8a381f286e793f6d4eedfa2dfa2'],
  [{ system: { set_relay_state: { state: 0 } } }, '0000002ad0f281f88bff9af7d5ef94b6c5a0d48bf99cf091e8b7c4b0d1a5c0e2d8a381f286e793f6d4eedea3dea3'],
  [{ system: { set_relay_state: { err_code: 0 } } }, '0000002dd0f281f88bff9af7d5ef94b6c5a0d48bf99cf091e8b7c4b0d1a5c0e2d8a381e496e4bbd8b7d3b694ae9ee39ee3']
]

describe('the Kasa codec', () => {
  it.each(VECTORS)('frames %j as the reference does', (message, hex) => {
    expect(frame(message).toString('hex')).toBe(hex)
    expect(unframe(Buffer.from(hex, 'hex'))).toEqual({ message, rest: Buffer.alloc(0) })
  })

  it('waits for a whole frame, however the bytes arrive', () => {
    const whole = Buffer.from(VECTORS[1]?.[1] as string, 'hex')
    for (let cut = 0; cut < whole.length; cut++) expect(unframe(whole.subarray(0, cut))).toBeUndefined()
  })

  it('decrypts what it encrypts', () => {
    fc.assert(fc.property(fc.uint8Array(), (bytes) => {
      expect([...decrypt(encrypt(bytes))]).toEqual([...bytes])
    }))
  })
})
