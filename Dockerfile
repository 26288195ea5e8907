# syntax=docker/dockerfile:1
# hourglass: an OpenTelemetry Collector-style sidecar. Multi-stage: compile TypeScript and the
# better-sqlite3 native module in a build image, ship only what runs, as a non-root user.

ARG NODE_VERSION=20.19

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
# node-gyp needs these when no prebuilt better-sqlite3 binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY proto ./proto
COPY src ./src
RUN npm run build && npm prune --omit=dev

# The instrumented demo service of docker-compose.yml (uses the dev dependencies: the SDK, tsx).
FROM deps AS demo
COPY tsconfig.json ./
COPY examples/demo-service ./examples/demo-service
USER node
CMD ["node", "--import", "tsx", "examples/demo-service/service.ts"]

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOURGLASS_STORAGE=/var/lib/hourglass/hourglass.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY proto ./proto
COPY package.json otel-config.yaml ./
RUN mkdir -p /var/lib/hourglass && chown node:node /var/lib/hourglass
USER node
VOLUME ["/var/lib/hourglass"]
# OTLP gRPC, OTLP HTTP, Prometheus /metrics + /healthz + /readyz.
EXPOSE 4317 4318 8888
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8888/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM stops the receivers, drains the pipeline and flushes the exporters, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--initial-old-space-size=128", "dist/cli.js"]
CMD ["run", "--config", "/app/otel-config.yaml"]
