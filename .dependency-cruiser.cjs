/**
 * The layers of src/, checked by `npm run lint:layers` (and so by CI):
 *
 *   cli.ts, server.ts              the process edge
 *   app.ts, chaos-pipeline.ts      wiring: builds the Fastify app
 *   fires/                         one fire's parts, kindled together
 *   routes.ts files, http/, hooks  thin HTTP wiring, in each folder
 *   fire/ gdpr/ alerts/ ...        domain logic
 *   chain/                         the chain: imports nothing above it
 *
 * An import may only run down these layers.
 */
const DOMAIN = '^src/(chain|fire|gdpr|alerts|balloon|stream|metrics|ingest|admin|shippers|stage|scorecard|listeners)/'

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle means two modules are one concern, or a layer is upside down.',
      from: { path: '^src/' },
      to: { circular: true }
    },
    {
      name: 'chain-is-the-bottom',
      severity: 'error',
      comment: 'The chain (its store, events and backends) imports nothing of logfire above it; only its routes file wires HTTP.',
      from: { path: '^src/chain/', pathNot: '^src/chain/routes\\.ts$' },
      to: { path: '^src/', pathNot: '^src/chain/' }
    },
    {
      name: 'nothing-imports-the-edge',
      severity: 'error',
      comment: 'server.ts starts the process and app.ts wires everything: nothing below may depend on them.',
      from: { path: '^src/', pathNot: '^src/(cli|server|app)\\.ts$' },
      to: { path: '^src/(server|app|chaos-pipeline)\\.ts$' }
    },
    {
      name: 'viewers-are-leaves',
      severity: 'error',
      comment: 'The event stream watches the chain; nothing publishes through it.',
      from: { path: '^src/', pathNot: '^src/(app\\.ts|stream/|fires/)' },
      to: { path: '^src/stream/' }
    },
    {
      name: 'domain-knows-a-fire-by-its-type',
      comment: 'A fire is made of the domain: below fires/, code may take a Fire as its context, never kindle one. The tokens\' format is the one value it may read (a syslog message carries a token).',
      severity: 'error',
      from: { path: DOMAIN },
      to: { path: '^src/fires/', pathNot: '^src/fires/tokens\\.ts$', dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'domain-logic-imports-no-fastify',
      severity: 'error',
      comment: 'Domain logic is plain TypeScript; Fastify is for the wiring files (routes, hooks, parsers).',
      from: { path: DOMAIN, pathNot: '/(routes|logs-route|hook|parser|body)\\.ts$' },
      to: { path: '^node_modules/(fastify|@fastify/|fastify-)', dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'http-helpers-below-routes',
      severity: 'error',
      comment: 'Shared HTTP helpers serve the routes files; they never reach up into one.',
      from: { path: '^src/http/' },
      to: { path: '/(routes|logs-route)\\.ts$' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] }
  }
}
