import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { requireAdmin } from '../admin/auth.js'
import { RunNotFound } from '../errors.js'
import { adminErrors, bearerErrors, documented, errorSchema, optionalToken } from '../http/responses.js'
import { readGuard } from '../http/token-guard.js'
import { RUN_ID } from './token.js'

export interface ScorecardRouteOptions {
  clock: () => number
  readToken: string | undefined
  ingestToken: string | undefined
  adminToken: string | undefined
}

const counts = z.record(z.string(), z.number().int())
const runReport = z.object({
  run: z.string(),
  delivered: z.number().int().describe('Entries that carried this run\'s token, copies included'),
  unique: z.number().int().describe('Distinct sequence numbers delivered'),
  duplicates: z.number().int().describe('Extra copies: delivered minus unique'),
  duplicatesAfter: counts.describe('The duplicates by the fault that came last before each arrived ("forward ack-loss", "relp reset-after-append"), or "no fault"'),
  highest: z.number().int().describe('The highest sequence number delivered; -1 before any'),
  missing: z.number().int().describe('Numbers below the highest that never came (the canary knows the tail)'),
  reordered: z.number().int().describe('Numbers that arrived after a higher one'),
  latencyMs: z.object({
    p50: z.number(),
    p99: z.number(),
    max: z.number(),
    buckets: z.array(z.object({ le: z.union([z.number(), z.literal('+Inf')]), count: z.number().int() }))
  }).describe('Arrival minus the canary\'s send time; p50 and p99 are bucket bounds'),
  firstArrival: z.number().int().optional(),
  lastArrival: z.number().int().optional(),
  started: z.number().int(),
  chaos: counts.describe('Requests refused or cut while the run was active, by outcome (lp0 503, reset, status 502...)'),
  refusedLines: counts.describe('This run\'s lines refused whole with their request, by status (410, 451, 413)'),
  burnedAfterDelivery: z.number().int().describe('Lines delivered and stored, then lost when the chain burned: logfire\'s loss'),
  approximate: z.boolean().describe('The per-run cap on gaps was reached: counts are approximate')
})
const runParams = z.object({ run: z.string().regex(RUN_ID, { error: 'a run id is 1 to 64 of A-Z a-z 0-9 _ . -' }) })
const notFound = { 404: documented(errorSchema, 'No such run (LOGFIRE_RUN_NOT_FOUND)') }
const SCORECARD = { tags: ['scorecard'] }

/** The delivery scorecard: what each canary run lost, duplicated or reordered. Never on fire. */
export const scorecardRoutes: FastifyPluginAsyncZod<ScorecardRouteOptions> = async (app, options) => {
  const onRequest = readGuard(options.readToken)

  app.get('/scorecard', {
    onRequest,
    schema: {
      ...SCORECARD,
      summary: 'Every canary run logfire keeps',
      security: optionalToken('readBearer'),
      response: { 200: documented(z.object({ runs: z.array(runReport), malformed: z.number().int() }), 'The runs, least recently active first'), ...bearerErrors('LOGFIRE_READ_TOKEN') }
    }
  }, async (request) => ({ runs: request.fire.scorecard.reports(), malformed: request.fire.scorecard.malformed }))

  app.get('/scorecard/:run', {
    onRequest,
    schema: {
      ...SCORECARD,
      summary: 'One canary run\'s delivery',
      security: optionalToken('readBearer'),
      params: runParams,
      response: { 200: documented(runReport, 'The run'), ...notFound, ...bearerErrors('LOGFIRE_READ_TOKEN') }
    }
  }, async (request) => {
    const report = request.fire.scorecard.report(request.params.run)
    if (report === undefined) throw new RunNotFound(request.params.run)
    return report
  })

  app.put('/scorecard/:run', {
    onRequest: readGuard(options.ingestToken, 'LOGFIRE_INGEST_TOKEN', 'logfire ingest'),
    schema: {
      ...SCORECARD,
      summary: 'Start a canary run before its first line',
      description: 'What `logfire canary` does first, so that refusals before its first line arrives count too. Ingest token, when set.',
      security: optionalToken('ingestBearer'),
      params: runParams,
      response: { 200: documented(runReport, 'The run'), ...bearerErrors('LOGFIRE_INGEST_TOKEN') }
    }
  }, async (request) => {
    const { scorecard } = request.fire
    scorecard.start(request.params.run, options.clock())
    return scorecard.report(request.params.run)
  })

  app.delete('/scorecard/:run', {
    onRequest: requireAdmin(options.adminToken),
    schema: {
      ...SCORECARD,
      summary: 'Forget a canary run',
      security: [{ adminBearer: [] as string[] }],
      params: runParams,
      response: { 200: documented(z.object({ forgotten: z.string() }), 'Forgotten'), ...notFound, ...adminErrors() }
    }
  }, async (request) => {
    if (!request.fire.scorecard.forget(request.params.run)) throw new RunNotFound(request.params.run)
    return { forgotten: request.params.run }
  })
}
