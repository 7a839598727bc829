/**
 * Whether an If-None-Match header matches the current entity tag (RFC 9110
 * §13.1.2: weak comparison, a list of tags, or "*").
 */
export function ifNoneMatchHits (header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  if (header.trim() === '*') return true
  const bare = etag.replace(/^W\//, '')
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === bare)
}
