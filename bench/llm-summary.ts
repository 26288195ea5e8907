/**
 * What the `llm_summary` exporter costs on the traffic path (`npm run bench:summaries`): its
 * `consume()` per span, in process, on 512-span requests tagged by the real anomaly detector:
 *
 * - no span tagged, nothing held: one byte search per request;
 * - clean traffic (~1% SEV5, below min_severity SEV3): tagged spans decoded and kept aside;
 * - 1% of spans 10x slower (SEV1-SEV3): anomalous traces held, so every request is scanned for
 *   spans of held traces (the holder full at max_traces), the worst case.
 *
 * And the metrics window: one metrics request of the real SDK. Prints a table; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { llmSummaryExporterSchema } from '../src/connectors/llm-summary/config.js';
import { SummaryEngine } from '../src/connectors/llm-summary/summary-engine.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { SelfMetrics } from '../src/telemetry/self-metrics.js';
import { systemClock } from '../src/component/clock.js';
import { NO_HOST } from '../src/component/component.js';
import { standaloneDetector } from '../test/detectors/helpers/detector.js';
import { traceRequest } from '../test/detectors/helpers/traces.js';
import { makeResourceMetrics } from '../test/helpers/metrics.js';
import { workload } from './lib/workload.js';

const dir = mkdtempSync(join(tmpdir(), 'hourglass-bench-summaries-'));
const now = Date.now();
const w = workload();

function nsPer(units: number, rounds: number, run: (i: number) => void): number {
  for (let i = 0; i < rounds; i++) run(i);
  const runs: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) run(i);
    runs.push(Number(process.hrtime.bigint() - t0) / (rounds * units));
  }
  return runs.sort((a, b) => a - b)[3]!;
}

async function engine(): Promise<SummaryEngine> {
  const e = new SummaryEngine(
    {
      id: 'llm_summary',
      logger: silentLogger(),
      clock: systemClock,
      metrics: new SelfMetrics({ processMetrics: false }),
    },
    // A window longer than the run: held traces stay held, the holder fills up to max_traces.
    llmSummaryExporterSchema.parse({ storage: join(dir, 'summaries.db'), trace_window: '1h' }),
  );
  await e.start(NO_HOST);
  return e;
}

async function main() {
  const detector = await standaloneDetector(join(dir, 'hg.db'));
  for (let day = 0; day < 14; day++) {
    for (let h = 0; h < 24; h++) {
      detector.accept(
        detector.score(traceRequest(w.spans(now - day * 86_400_000 - h * 3_600_000, 6000))),
      );
    }
  }
  await detector.recalculate();
  const tagged = (slowShare: number, sigma?: number) =>
    Array.from({ length: 64 }, () => detector.score(w.request(now, 512, slowShare, sigma)).bytes);
  const quiet = tagged(0, 0);
  const clean = tagged(0);
  const slow = tagged(0.01);
  await detector.shutdown();
  const rows: [string, number][] = [];
  const quietEngine = await engine();
  rows.push([
    'no span tagged, nothing held',
    nsPer(512, 2000, (i) => quietEngine.consumeTraces(quiet[i % 64]!)),
  ]);
  const cleanEngine = await engine();
  rows.push([
    'clean traffic (~1% SEV5 tagged, none held)',
    nsPer(512, 2000, (i) => cleanEngine.consumeTraces(clean[i % 64]!)),
  ]);
  const slowEngine = await engine();
  rows.push([
    '1% 10x slower: traces held, every request scanned',
    nsPer(512, 2000, (i) => slowEngine.consumeTraces(slow[i % 64]!)),
  ]);
  const metrics = ProtobufMetricsSerializer.serializeRequest(await makeResourceMetrics('cart'))!;
  const metricsNs = nsPer(1, 20_000, () => quietEngine.consumeMetrics(metrics));
  for (const e of [quietEngine, cleanEngine, slowEngine]) await e.shutdown();
  console.log(
    '\nllm_summary consume(), in process (512-span requests tagged by the anomaly detector)',
  );
  console.log('| traffic | ns/span | share of one core at 150,000 spans/s |');
  console.log('| --- | ---: | ---: |');
  for (const [label, ns] of rows) {
    console.log(`| ${label} | ${ns.toFixed(0)} | ${((ns * 150_000) / 1e7).toFixed(2)}% |`);
  }
  console.log(
    `\nmetrics window: ${(metricsNs / 1000).toFixed(1)} µs per metrics request (${metrics.length} bytes, 7 points)`,
  );
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
