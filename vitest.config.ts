import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The process tests start real servers; give them room on a busy 2-core machine.
    testTimeout: 20_000,
    // Vitest's default leaves a core free: on 2 cores that is one file at a
    // time, and the suite took 7 minutes. Most files wait on sockets and
    // child processes, not on the CPU.
    maxWorkers: Math.max(2, availableParallelism())
  }
})
