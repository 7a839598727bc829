import type { FastifyBaseLogger } from 'fastify'
import type { LiveSettings } from '../admin/settings.js'
import type { AppendOutcome } from '../chain/backend.js'
import type { Chain } from '../chain/chain.js'
import { ChainBurned, tooManyEntries, withExtras } from '../errors.js'
import type { ChaosRoll } from '../fire/chaos.js'
import { refuseEuMentions } from '../gdpr/guard.js'
import { canaryLinesByRun } from '../scorecard/token.js'

export interface AppendContext {
  chain: Chain
  clock: () => number
  /** Read on every append, so a runtime change applies at once. */
  settings: LiveSettings
}

export type Appended = Extract<AppendOutcome, { appended: true }>

/** What an ingest route knows about the request it is appending for. */
export interface AppendRequest {
  chaos: ChaosRoll
  requestNumber: number
  log: FastifyBaseLogger
}

/**
 * The last steps of the chaos, shared by every ingest route: the batch
 * limit (413), GDPR (451), then the burn (410), then the append. Each
 * refusal throws before anything is stored, so a request is appended whole
 * or not at all.
 */
export function appendEntries (context: AppendContext, entries: readonly string[], request: AppendRequest): Appended | Promise<Appended> {
  try {
    checkEntries(context, entries, request)
    // In memory the outcome comes at once: no promise on the hot path.
    const outcome = context.chain.append(entries, context.clock(), request.chaos.burn)
    if (!(outcome instanceof Promise)) return appendedOrBurned(outcome, request)
    return outcome.then((settled) => appendedOrBurned(settled, request))
      .catch((error: unknown) => { throw scoredRefusal(context.chain, entries, request, error) })
  } catch (error) {
    throw scoredRefusal(context.chain, entries, request, error)
  }
}

function checkEntries ({ chain, settings }: AppendContext, entries: readonly string[], request: AppendRequest): void {
  if (settings.maxEntriesPerRequest > 0 && entries.length > settings.maxEntriesPerRequest) {
    throw tooManyEntries(entries.length, settings.maxEntriesPerRequest)
  }
  if (settings.gdpr) {
    refuseEuMentions(entries, request.log, ({ entry, term }) => {
      chain.publish({ type: 'gdpr', request: request.requestNumber, entry, term })
    })
  }
}

// The canary lines a refused request held go on the scorecard, by run.
function scoredRefusal (chain: Chain, entries: readonly string[], request: AppendRequest, error: unknown): unknown {
  const status = (error as { statusCode?: unknown }).statusCode
  const lines = typeof status === 'number' && status < 500 ? canaryLinesByRun(entries) : undefined
  if (lines !== undefined) chain.publish({ type: 'refused', request: request.requestNumber, status: status as number, lines })
  return error
}

function appendedOrBurned (outcome: AppendOutcome, request: AppendRequest): Appended {
  if (!outcome.appended) {
    const { burned, reason } = outcome
    request.log.warn({ burn: { reason, burned } }, 'chain burned')
    throw withExtras(new ChainBurned(reason, burned), { body: { burned, reason } })
  }
  return outcome
}
