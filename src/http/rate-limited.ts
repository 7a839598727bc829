import { RateLimited } from '../errors.js'

/**
 * How every rate limit answers: the 429 in logfire's error shape, with
 * Retry-After and the x-ratelimit-* headers. Answers under the limit carry
 * none of them: on each one-line POST they cost 9,000 instructions (5%),
 * and no shipper reads them.
 */
export const rateLimitAnswers = {
  errorResponseBuilder: (_request: unknown, context: { after: string }) => new RateLimited(context.after),
  addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false }
}
