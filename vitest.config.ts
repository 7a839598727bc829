import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

// The files that take longest, most of it waiting on Chromium, real
// shippers, a Redis Cluster or child processes, in the order they start.
// Two files run at a time, so the last long file to start decides when the
// run ends; on a fresh clone (as in CI) Vitest has no timings of its own and
// would start the largest files first, not the slowest. A file missing from
// the list runs after these, as Vitest orders it.
const SLOWEST_FIRST = [
  'cluster', 'e2e/stage', 'docs/examples', 'peers/peers', 'process', 'http/redis', 'e2e/refusals',
  'replicas', 'memory', 'e2e/shippers/canary', 'e2e/shippers/relp', 'fires/redis', 'build',
  'e2e/shippers/syslog-streams', 'e2e/shippers/syslog-ng', 'listeners/syslog', 'fire/faults', 'fuzz'
].map((name) => `/test/${name}.test.ts`)

class SlowestFirst extends BaseSequencer {
  override async sort (files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (file: TestSpecification) => {
      const at = SLOWEST_FIRST.findIndex((name) => file.moduleId.endsWith(name))
      return at === -1 ? SLOWEST_FIRST.length : at
    }
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // The process tests start real servers; give them room on a busy 2-core machine.
    testTimeout: 20_000,
    // Two files at a time, even on two cores (Vitest's default would be one):
    // most of the suite's time is spent waiting on real shippers, servers and
    // sockets, not computing. 460 s became 264 s on the 2-core machine.
    maxWorkers: 2,
    // Files share a worker's loaded modules instead of each loading Fastify,
    // the app and its dependencies afresh: src/ keeps no module-level state,
    // and every test builds its own app. 66 s of imports became 13 to 16 s.
    isolate: false,
    sequence: { sequencer: SlowestFirst }
  }
})
