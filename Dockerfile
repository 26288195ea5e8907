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
# The web console (console/), bundled into dist/console by scripts/build-console.ts.
COPY console ./console
COPY scripts/build-console.ts ./scripts/
RUN npm run build && npm prune --omit=dev

# The instrumented demo service of docker-compose.yml (uses the dev dependencies: the SDK, tsx).
FROM deps AS demo
COPY tsconfig.json ./
COPY examples/demo-service ./examples/demo-service
USER node
CMD ["node", "--import", "tsx", "examples/demo-service/service.ts"]

FROM node:${NODE_VERSION}-bookworm-slim AS runtime
# HOURGLASS_CONFIG is the config "run" and "healthcheck" both read: mount another file and point
# this variable at it (rather than passing --config to run), so the HEALTHCHECK reads the same
# file and follows its telemetry address. Every store (baselines, summaries, the persistent
# sending queue) lives under HOURGLASS_DATA_DIR, the one volume, owned by the non-root user.
ENV NODE_ENV=production \
    HOURGLASS_CONFIG=/app/otel-config.yaml \
    HOURGLASS_DATA_DIR=/var/lib/hourglass
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY proto ./proto
COPY package.json otel-config.yaml ./
RUN mkdir -p /var/lib/hourglass && chown node:node /var/lib/hourglass
USER node
VOLUME ["/var/lib/hourglass"]
# OTLP gRPC, OTLP HTTP, Prometheus /metrics + /healthz + /readyz, the admin API (bound to
# localhost inside the container unless HOURGLASS_ADMIN_ENDPOINT says otherwise).
EXPOSE 4317 4318 8888 8890
# GET /readyz on the configured service.telemetry.metrics.address (hourglass healthcheck --help).
HEALTHCHECK --interval=10s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "dist/cli.js", "healthcheck"]
# SIGTERM stops the receivers, drains the pipeline and flushes the exporters, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--initial-old-space-size=128", "dist/cli.js"]
CMD ["run"]
