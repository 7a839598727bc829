import type { FastifyBaseLogger } from 'fastify'
import type { LiveSettings } from '../admin/settings.js'
import type { AppendOutcome } from '../chain/backend.js'
import type { Chain } from '../chain/chain.js'
import { ChainBurned, tooManyEntries, withExtras } from '../errors.js'
import type { RefusedItem } from '../fire/batches.js'
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

/**
 * A batch some of whose items the chaos refuses one by one (rollRefusedItems):
 * the batch limit and GDPR judge every entry, the burn the whole request, and
 * only the others are stored, in one append. The refused canary lines go on
 * the scorecard with their status. Undefined when nothing was left to store.
 */
export function appendExcept (context: AppendContext, entries: readonly string[], refused: readonly RefusedItem[], request: AppendRequest): Appended | Promise<Appended> | undefined {
  if (refused.length === 0) return appendEntries(context, entries, request)
  checkEntries(context, entries, request)
  const skipped = new Set(refused.map((item) => item.index))
  const kept = entries.filter((_, index) => !skipped.has(index))
  if (kept.length === 0 && !request.chaos.burn) {
    scoreRefusedItems(context.chain, entries, refused, request)
    return undefined
  }
  // The whole request refused after all (410): the refused items are scored with it.
  const refusedWhole = (error: unknown): unknown => scoredRefusal(context.chain, refused.map(({ index }) => entries[index] as string), request, error)
  let appended: Appended | Promise<Appended>
  try {
    appended = appendEntries(context, kept, request)
  } catch (error) {
    throw refusedWhole(error)
  }
  if (appended instanceof Promise) {
    return appended.then((settled) => { scoreRefusedItems(context.chain, entries, refused, request); return settled }, (error: unknown) => { throw refusedWhole(error) })
  }
  scoreRefusedItems(context.chain, entries, refused, request)
  return appended
}

function scoreRefusedItems (chain: Chain, entries: readonly string[], refused: readonly RefusedItem[], request: AppendRequest): void {
  const byStatus = new Map<number, string[]>()
  for (const { index, status } of refused) {
    const list = byStatus.get(status) ?? []
    list.push(entries[index] as string)
    byStatus.set(status, list)
  }
  for (const [status, list] of byStatus) publishRefused(chain, list, request, status)
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
  if (typeof status === 'number' && status < 500) publishRefused(chain, entries, request, status)
  return error
}

// The canary lines among refused entries, by run, with the status they got.
function publishRefused (chain: Chain, entries: readonly string[], request: AppendRequest, status: number): void {
  const lines = canaryLinesByRun(entries)
  if (lines !== undefined) chain.publish({ type: 'refused', request: request.requestNumber, status, lines })
}

function appendedOrBurned (outcome: AppendOutcome, request: AppendRequest): Appended {
  if (!outcome.appended) {
    const { burned, reason } = outcome
    request.log.warn({ burn: { reason, burned } }, 'chain burned')
    throw withExtras(new ChainBurned(reason, burned), { body: { burned, reason } })
  }
  return outcome
}
