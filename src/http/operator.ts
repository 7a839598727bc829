declare module 'fastify' {
  interface FastifyContextConfig {
    /** Only the operator's own tokens open it: a fire's token is refused, whatever its scope. */
    operator?: boolean
  }
}

/** The config of a route that is the whole instance's, not one fire's: alerts, peers, listeners, metrics. */
export const OPERATOR_ONLY = { operator: true } as const
