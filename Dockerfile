# syntax=docker/dockerfile:1

# Build stage: the TypeScript compiler and the dev dependencies stay here.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
RUN npm run build

# Runtime stage: production dependencies and the compiled JavaScript only.
FROM node:24-slim
ENV HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
# The build fails if any dev dependency reached the image (SECURITY.md).
RUN node -e "const dev = Object.keys(require('./package.json').devDependencies).filter((name) => require('node:fs').existsSync('node_modules/' + name)); if (dev.length > 0) { console.error('dev dependencies in the image: ' + dev.join(', ')); process.exit(1) }"
COPY --from=build /app/dist ./dist
COPY public ./public
# The OTLP .proto files POST /v1/logs decodes with, read at its first protobuf message.
COPY proto ./proto
USER node
# HTTP, and the stream listeners' usual unprivileged ports (syslog, TLS, RELP, Forward, GELF) when their variables turn them on.
EXPOSE 3000 5514 5514/udp 6514 2514 24224 24224/udp 12201 12201/udp
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node as PID 1, not npm or a shell, so SIGTERM reaches the server and it exits 0.
# The same V8 flags as `npm start` (docs/operations.md, "Speed and memory"); a test keeps them equal.
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=50", "dist/server.js"]
