import { isIP } from 'node:net'

/** Loopback and private networks only: an IP address, or localhost. A name could resolve anywhere. */
export function isLocalHost (host: string): boolean {
  if (host === 'localhost') return true
  const version = isIP(host)
  if (version === 4) {
    const [a, b] = host.split('.').map(Number) as [number, number]
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254)
  }
  if (version === 6) {
    const lower = host.toLowerCase()
    return lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower)
  }
  return false
}
