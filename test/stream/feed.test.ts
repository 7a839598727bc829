import { describe, expect, it } from 'vitest'
import { ChainStore } from '../../src/chain/store.js'
import { EventBus } from '../../src/chain/events.js'
import { Feed, parseEventId, type FeedEvent } from '../../src/stream/feed.js'

/** Every event due, each read at once, as the stream does: a block's text is a view of the store. */
function drain (feed: Feed): FeedEvent[] {
  const out: FeedEvent[] = []
  for (let next = feed.next(); next !== undefined; next = feed.next()) out.push(next.event === 'block' ? { ...next, data: next.data } : next)
  return out
}

const summary = (events: FeedEvent[]) => events.map((e) => `${e.id} ${e.event}${e.event === 'block' ? ` ${e.data.data}` : ''}`)

/** A store and a hub wired like the app wires them. */
function world () {
  const store = new ChainStore()
  const events = new EventBus()
  return {
    store,
    events,
    append (...entries: string[]) { const first = store.length; store.append(entries, 1); events.publish({ type: 'append', count: entries.length, first, epoch: store.epoch, entries }) },
    burn (reason: 'random' | 'admin' = 'random') {
      const burned = store.burn()
      events.publish({ type: 'burn', epoch: store.epoch, burned, reason })
    },
    follow (feed: Feed) { events.subscribe((event) => { feed.record(event) }); return feed }
  }
}

describe('Feed', () => {
  it('shows a new viewer the recent blocks, never genesis', () => {
    const w = world()
    w.append('a', 'b', 'c')
    expect(summary(drain(new Feed(w.store, { backlog: 2 })))).toEqual(['0-2 block b', '0-3 block c'])
    expect(drain(new Feed(w.store, { backlog: 100 })).map((e) => e.id)).toEqual(['0-1', '0-2', '0-3'])
    expect(drain(new Feed(new ChainStore(), { backlog: 100 }))).toEqual([])
  })

  it('delivers appends, fires, GDPR refusals and burns in the order they happened', () => {
    const w = world()
    const feed = w.follow(new Feed(w.store, { backlog: 0 }))
    const seen: FeedEvent[] = []
    // A live viewer reads as things happen; appends and moments may pile up in between.
    w.append('one')
    w.events.publish({ type: 'fire', request: 2 })
    w.append('two', 'three')
    seen.push(...drain(feed))
    w.events.publish({ type: 'gdpr', request: 4, entry: 0, term: 'EU' })
    w.burn()
    w.append('fresh')
    seen.push(...drain(feed))
    expect(summary(seen)).toEqual([
      '0-1 block one',
      '0-1 fire',
      '0-2 block two',
      '0-3 block three',
      '0-3 gdpr',
      '1-0 burn',
      '1-1 block fresh'
    ])
  })

  it('skips the blocks a burn destroyed before the viewer read them', () => {
    const w = world()
    const feed = w.follow(new Feed(w.store, { backlog: 0 }))
    w.append('a', 'b')
    expect(feed.next()?.id).toBe('0-1')
    w.burn('admin')
    w.append('c')
    expect(drain(feed).map((e) => [e.id, e.event, e.data])).toEqual([
      ['1-0', 'burn', { burned: 2, reason: 'admin' }],
      ['1-1', 'block', expect.objectContaining({ data: 'c' })]
    ])
  })

  it('resumes after Last-Event-ID in the same epoch', () => {
    const w = world()
    w.append('a', 'b', 'c', 'd')
    expect(summary(drain(new Feed(w.store, { backlog: 1, lastEventId: '0-2' })))).toEqual(['0-3 block c', '0-4 block d'])
    expect(drain(new Feed(w.store, { backlog: 1, lastEventId: '0-4' }))).toEqual([])
  })

  it('resumes across a burn: the burn first, then the whole new chain', () => {
    const w = world()
    w.append('a', 'b')
    w.burn('admin')
    w.append('c', 'd')
    expect(summary(drain(new Feed(w.store, { backlog: 1, lastEventId: '0-1', lastBurn: w.events.lastBurn }))))
      .toEqual(['1-0 burn', '1-1 block c', '1-2 block d'])
  })

  it('treats an unknown or future Last-Event-ID as a new viewer', () => {
    const w = world()
    w.append('a', 'b')
    for (const lastEventId of ['nonsense', '7-1', '0-99', '']) {
      expect(summary(drain(new Feed(w.store, { backlog: 1, lastEventId })))).toEqual(['0-2 block b'])
    }
  })

  it('asks to drop a viewer that falls too far behind', () => {
    const w = world()
    const feed = new Feed(w.store, { backlog: 0, maxMarkers: 2 })
    expect(feed.record({ type: 'fire', request: 1 })).toBe(true)
    expect(feed.record({ type: 'fire', request: 2 })).toBe(true)
    expect(feed.record({ type: 'fire', request: 3 })).toBe(false)
  })
})

describe('parseEventId', () => {
  it('reads "<epoch>-<index>" and nothing else', () => {
    expect(parseEventId('3-42')).toEqual({ epoch: 3, index: 42 })
    expect(parseEventId('3-')).toBeUndefined()
    expect(parseEventId('-1-2')).toBeUndefined()
    expect(parseEventId(undefined)).toBeUndefined()
  })
})
