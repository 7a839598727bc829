import { RateLimited } from '../errors.js'

/** Every rate limit refuses in logfire's error shape. */
export const rateLimited = (_request: unknown, context: { after: string }) => new RateLimited(context.after)
