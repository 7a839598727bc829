import { LogController, type FastifyReply, type FastifyRequest } from 'fastify'

/**
 * One log line per request instead of Fastify's two. Only the method, the
 * path and the outcome: never a body (users' log lines) nor a header (tokens).
 */
export class OneLinePerRequest extends LogController {
  override incomingRequest (): void {}

  override requestCompleted (error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url,
      statusCode: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 100) / 100
    }
    if (error) reply.log.error({ ...line, err: error }, 'request failed while answering')
    else reply.log.info(line, 'request')
  }
}
