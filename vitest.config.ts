import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The process tests start real servers; give them room on a busy 2-core machine.
    testTimeout: 20_000,
    // Two files at a time, even on two cores (Vitest's default would be one):
    // most of the suite's time is spent waiting on real shippers, servers and
    // sockets, not computing. 460 s became 264 s on the 2-core machine.
    maxWorkers: 2
  }
})
