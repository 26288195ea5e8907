/**
 * Exporter throughput: spans per second one exporter instance (otlp or otlphttp) sends to a
 * downstream that answers at once (another process), with 512-span batches of realistic spans,
 * with and without gzip, 10 exports in flight (the default num_consumers).
 * Run: npx tsx bench/exporters.ts
 */
import { batchOf, type OtlpBatch } from '../src/component/consumer.js';
import { NO_HOST } from '../src/component/component.js';
import type { ExporterFactory } from '../src/component/factory.js';
import { otlpExporterFactory } from '../src/exporters/otlp/factory.js';
import { otlpHttpExporterFactory } from '../src/exporters/otlphttp/factory.js';
import { systemClock } from '../src/component/clock.js';
import { jsonToProto } from '../src/otlp/json-decode.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { startNullServer } from './lib/null-server.js';

const SECONDS = 3;
const IN_FLIGHT = 10;

function realisticBatch(spans: number): OtlpBatch {
  const hex = (n: number, len: number) => n.toString(16).padStart(len, '0');
  const json = {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'checkout' } },
            { key: 'service.version', value: { stringValue: '1.42.0' } },
            { key: 'host.name', value: { stringValue: 'checkout-7d9f8b6c5-x2x9z' } },
          ],
        },
        scopeSpans: [
          {
            scope: { name: '@opentelemetry/instrumentation-http', version: '0.57.0' },
            spans: Array.from({ length: spans }, (_, i) => ({
              traceId: hex(i + 1, 32),
              spanId: hex(i + 1, 16),
              parentSpanId: hex(i + 1000, 16),
              name: `GET /api/v1/items/{id}`,
              kind: 2,
              startTimeUnixNano: String(1_767_571_200_000_000_000n + BigInt(i) * 1_000_000n),
              endTimeUnixNano: String(1_767_571_200_012_000_000n + BigInt(i) * 1_000_000n),
              attributes: [
                { key: 'http.request.method', value: { stringValue: 'GET' } },
                { key: 'url.path', value: { stringValue: `/api/v1/items/${i}` } },
                { key: 'http.response.status_code', value: { intValue: '200' } },
                { key: 'server.address', value: { stringValue: 'checkout.internal' } },
                {
                  key: 'user_agent.original',
                  value: { stringValue: 'Mozilla/5.0 (X11; Linux x86_64)' },
                },
              ],
              status: {},
            })),
          },
        ],
      },
    ],
  };
  return batchOf('traces', jsonToProto('traces', JSON.stringify(json)), spans);
}

async function measure(
  factory: ExporterFactory<any>,
  raw: Record<string, unknown>,
  batch: OtlpBatch,
) {
  const settings = {
    id: factory.type,
    logger: silentLogger(),
    clock: systemClock,
    metrics: new SelfMetrics({ processMetrics: false }),
  };
  const exporter = factory.create(
    settings,
    factory.configSchema.parse({ ...raw, sending_queue: { enabled: false } }),
    'traces',
  );
  await exporter.start(NO_HOST);
  for (let i = 0; i < 20; i++) await exporter.consume(batch); // warm up
  let sent = 0;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await exporter.consume(batch);
        sent += batch.items;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  await exporter.shutdown();
  return {
    spansPerSec: Math.round(sent / elapsed),
    cpuPercent: Math.round(((used.user + used.system) / 1e6 / elapsed) * 100),
  };
}

const server = await startNullServer();
try {
  const batch = realisticBatch(512);
  const rows = [];
  for (const compression of ['none', 'gzip']) {
    rows.push({
      exporter: 'otlp (gRPC)',
      compression,
      ...(await measure(
        otlpExporterFactory,
        { endpoint: `127.0.0.1:${server.grpc}`, tls: { insecure: true }, compression },
        batch,
      )),
    });
    rows.push({
      exporter: 'otlphttp',
      compression,
      ...(await measure(
        otlpHttpExporterFactory,
        { endpoint: `http://127.0.0.1:${server.http}`, compression },
        batch,
      )),
    });
  }
  console.log(
    `exporters: 512-span batches of ${batch.bytes.length} bytes, ${IN_FLIGHT} in flight, ${SECONDS}s per row (CPU of the exporting process)`,
  );
  console.table(rows);
} finally {
  server.stop();
}
