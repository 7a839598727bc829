import { it as plainIt } from 'vitest'

/** Registers what undoes a test's setup: run when the test ends, passed or failed, last first. */
export type Defer = (cleanup: () => unknown) => void

/**
 * `it` with a `defer` of the test's own. Cleanups kept per test, not in a
 * list the file shares, are what lets a file of slow, mostly waiting tests
 * (real shippers, their retry timers) run them concurrently.
 */
export const it = plainIt.extend<{ defer: Defer }>({
  // eslint-disable-next-line no-empty-pattern -- Vitest reads a fixture's own fixtures from this pattern
  defer: async ({}, use) => {
    const cleanups: Array<() => unknown> = []
    await use((cleanup) => { cleanups.push(cleanup) })
    for (const cleanup of cleanups.reverse()) await cleanup()
  }
})
