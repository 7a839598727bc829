import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The process tests start real servers; give them room on a busy 2-core machine.
    testTimeout: 20_000
  }
})
