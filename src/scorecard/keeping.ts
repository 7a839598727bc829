import type { Block } from '../chain/block.js'
import type { Chain } from '../chain/chain.js'
import { faultLabel } from '../fire/stream-faults.js'
import { Scorecard } from './scorecard.js'
import { TOKEN_MARK } from './token.js'

declare module '../chain/events.js' {
  interface ChainEventMap {
    /** A request holding canary lines was refused whole after its body was read (410, 451, 413): its lines, by run. */
    refused: { request: number, status: number, lines: Record<string, number> }
  }
}

const MARK = Buffer.from(TOKEN_MARK)

/**
 * Keeps the scorecard from the chain's timeline: the lines each append
 * stored, the refusals, the fires, the faults and the burns. Another
 * replica's appends are read back from the chain (this replica follows it),
 * so with Redis every replica keeps the same counts of delivered lines.
 */
export function startScorekeeping (chain: Chain, clock: () => number, scorecard = new Scorecard()): { scorecard: Scorecard, stop: () => void } {
  const stop = chain.subscribe((event, origin) => {
    switch (event.type) {
      case 'append':
        if (origin === 'local') {
          scorecard.stored(event.entries, clock())
        } else {
          scorecard.stored(canaryEntries(chain, event.first, event.count), clock())
        }
        break
      case 'burn': scorecard.burned(); break
      case 'refused': scorecard.refused(event.lines, event.status); break
      // On a stream there is no status: the protocol says where it happened.
      case 'fire': scorecard.chaos(event.protocol === undefined ? 'lp0 503' : `${event.protocol} lp0`, clock()); break
      case 'fault': scorecard.chaos(event.protocol === undefined ? faultLabel(event.fault) : `${event.protocol} ${faultLabel(event.fault)}`, clock()); break
      case 'gdpr': scorecard.chaos(event.protocol === undefined ? 'gdpr 451' : `${event.protocol} gdpr`, clock()); break
      case 'limited': scorecard.chaos('rate limit 429', clock()); break
    }
  })
  return { scorecard, stop }
}

// Only blocks that hold the mark are parsed: other replicas' lines cost a search.
function canaryEntries (chain: Chain, first: number, count: number): string[] {
  const entries: string[] = []
  for (let index = first; index < first + count; index++) {
    const text = chain.textAt(index)
    if (text !== undefined && text.includes(MARK)) entries.push((JSON.parse(text.toString('utf8')) as Block).data)
  }
  return entries
}
