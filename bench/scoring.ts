/**
 * The anomaly processor's cost (`npm run bench:scoring`):
 *
 * 1. per span, in process: scanning a 512-span request (indexSpans, what any detection needs),
 *    scoring it against the in-memory baselines, tagging anomalies, and learning from it;
 * 2. the whole sidecar over OTLP/HTTP protobuf (real receiver, 512 spans per request, concurrent
 *    keep-alive clients), with and without the anomaly processor in the pipeline.
 *
 * Prints a table; nothing is asserted (speed is measured here, never in tests).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { ExporterFactory } from '../src/component/factory.js';
import { ManualClock } from '../src/component/manual-clock.js';
import { builtinFactories } from '../src/components.js';
import { loadConfigText } from '../src/config/load.js';
import { staticResolver } from '../src/config/validate.js';
import { startFromConfig } from '../src/main.js';
import { indexFromLayout, indexSpans } from '../src/otlp/trace-index.js';
import { validateRequest } from '../src/otlp/validate.js';
import type { OtlpReceiver } from '../src/receiver/otlp/otlp-receiver.js';
import { silentLogger } from '../src/telemetry/logger.js';
import { standaloneDetector } from '../test/detectors/helpers/detector.js';
import { traceRequest } from '../test/detectors/helpers/traces.js';
import { benchArgs, envWholeNumber } from './lib/args.js';
import { workload } from './lib/workload.js';

// No options: the settings are environment variables (an option given is refused, not ignored).
benchArgs(
  'bench:scoring',
  `usage: [VARIABLE=VALUE ...] npm run bench:scoring

The anomaly processor's cost per span in process, and the whole sidecar with and without it.
Set by environment variables:
  BENCH_SECONDS=5          seconds per pipeline over OTLP/HTTP
  BENCH_CLIENTS=4          concurrent keep-alive clients`,
  {},
);

const dir = mkdtempSync(join(tmpdir(), 'hourglass-bench-'));
const now = Date.now();
const w = workload();
/**
 * The detector's clock stays a second after the requests' spans end (within 5 s before `now`, as
 * an SDK's batch): every span stays in a minute the error and traffic detectors count, however
 * long the run. On the system clock they found the spans late a minute or two in and skipped them,
 * and the later runs measured less than the sidecar does. No minute closes, so the traffic
 * detector learns no baseline and judges no surge (`bench:scoring:ab` measures that too).
 */
const clock = new ManualClock(now + 1_000);
const SPREAD_MS = 5_000;

interface Case {
  readonly label: string;
  readonly run: (i: number) => void;
}

/**
 * ns per span of each case: all are warmed up first (so the JIT and the detector's buffers have
 * settled for every path), then timed in turns, 7 runs each; the median run is reported.
 */
function timeAll(cases: readonly Case[], rounds: number, spansPerRound: number) {
  for (const c of cases) for (let i = 0; i < rounds; i++) c.run(i);
  const runs = cases.map(() => [] as number[]);
  for (let run = 0; run < 7; run++) {
    cases.forEach((c, k) => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < rounds; i++) c.run(i);
      runs[k]!.push(Number(process.hrtime.bigint() - t0) / (rounds * spansPerRound));
    });
  }
  return cases.map((c, k) => ({
    label: c.label,
    nsPerSpan: runs[k]!.sort((a, b) => a - b)[3]!,
  }));
}

async function perSpan() {
  const detector = await standaloneDetector(join(dir, 'scoring.db'), {}, clock);
  // Baselines: 200 keys with two weeks of history each, 30 spans per key and hour.
  for (let day = 0; day < 14; day++) {
    for (let h = 0; h < 24; h++) {
      const spans = w.spans(now - day * 86_400_000 - h * 3_600_000, 6000);
      detector.accept(detector.score(traceRequest(spans)));
    }
  }
  await detector.recalculate();
  const quiet = Array.from({ length: 64 }, () => w.request(now, 512, 0, 0, SPREAD_MS));
  const clean = Array.from({ length: 64 }, () => w.request(now, 512, 0, 0.2, SPREAD_MS));
  const slow = Array.from({ length: 64 }, () => w.request(now, 512, 0.01, 0.2, SPREAD_MS));
  const layouts = clean.map((b) => validateRequest('traces', b, { layout: true }).layout!);
  const rounds = 1000;
  const results = timeAll(
    [
      { label: 'indexSpans (scan only)', run: (i) => indexSpans(clean[i % 64]!) },
      { label: 'score, nothing tagged', run: (i) => detector.score(quiet[i % 64]!) },
      {
        label: 'score + learn, nothing tagged',
        run: (i) => detector.accept(detector.score(quiet[i % 64]!)),
      },
      {
        label: 'score + tag + learn, clean traffic (~1% SEV5)',
        run: (i) => detector.accept(detector.score(clean[i % 64]!)),
      },
      {
        label: 'score + tag + learn, 1% 10x slower',
        run: (i) => detector.accept(detector.score(slow[i % 64]!)),
      },
      // In the sidecar the receiver records where the fields are while validating (SpanLayout):
      // no scan. (Recording adds about 55 ns a span to validation.)
      { label: "index from the receiver's layout", run: (i) => indexFromLayout(layouts[i % 64]!) },
      {
        label: 'score + tag + learn, clean traffic, from the layout',
        run: (i) => detector.accept(detector.score(clean[i % 64]!, layouts[i % 64]!)),
      },
    ],
    rounds,
    512,
  );
  detector.flush();
  await detector.shutdown();
  const scan = results[0]!.nsPerSpan;
  console.log('\nper span, in process (512-span requests, 200 keys, 8 attributes per span)');
  console.log('| step | ns/span | over the scan |');
  console.log('| --- | ---: | ---: |');
  for (const r of results) {
    const over =
      r === results[0] || r.label.includes('layout') ? '' : (r.nsPerSpan - scan).toFixed(0);
    console.log(`| ${r.label} | ${r.nsPerSpan.toFixed(0)} | ${over} |`);
  }
  const all = results[3]!.nsPerSpan;
  const tagged = results[4]!;
  const fromLayout = results[6]!.nsPerSpan;
  console.log(
    `\ndetection on clean traffic (scan, score, ~1% tagged, learn): ${all.toFixed(0)} ns/span, ${((all * 150_000) / 1e7).toFixed(1)}% of one core at 150,000 spans/s (with 1% 10x slower spans: ${tagged.nsPerSpan.toFixed(0)} ns/span); in the sidecar, from the receiver's layout: ${fromLayout.toFixed(0)} ns/span`,
  );
}

/** An exporter that accepts at once: the pipeline bench measures the sidecar, not a backend. */
const nullExporter: ExporterFactory<Record<string, never>> = {
  kind: 'exporter',
  type: 'null',
  signals: ['traces'],
  configSchema: z.strictObject({}),
  create: () => ({
    start: async () => undefined,
    shutdown: async () => undefined,
    consume: async () => undefined,
  }),
};

async function pipeline(withAnomaly: boolean, seconds: number, clients: number) {
  const doc = {
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
    processors: withAnomaly ? { anomaly: { storage: join(dir, 'pipeline.db') } } : {},
    exporters: { null: {} },
    service: {
      pipelines: {
        traces: {
          receivers: ['otlp'],
          processors: withAnomaly ? ['anomaly'] : [],
          exporters: ['null'],
        },
      },
      telemetry: { metrics: { level: 'none' } },
    },
  };
  const config = await loadConfigText(
    stringify(doc),
    'bench.yaml',
    staticResolver(builtinFactories([nullExporter])),
  );
  const sidecar = await startFromConfig(config, { logger: silentLogger() });
  const address = sidecar.service.find<OtlpReceiver>('receiver', 'otlp')!.addresses().http!;
  const worker = new Worker(new URL('./lib/load-client.mjs', import.meta.url), {
    workerData: {
      url: `http://${address}/v1/traces`,
      // Stamped as the run starts, on the sidecar's (system) clock: live for a run of about a minute.
      bodies: Array.from({ length: 64 }, () => w.request(Date.now(), 512, 0.001, 0.2, SPREAD_MS)),
      clients,
      warmup: 200,
      seconds,
    },
  });
  const { requests, latencies } = await new Promise<{ requests: number; latencies: number[] }>(
    (resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    },
  );
  await worker.terminate();
  await sidecar.shutdown();
  latencies.sort((a, b) => a - b);
  return {
    spansPerSecond: (requests * 512) / seconds,
    p50: latencies[Math.floor(latencies.length * 0.5)]!,
    p99: latencies[Math.floor(latencies.length * 0.99)]!,
  };
}

// Read before anything runs: a wrong value stops the benchmark at once, naming the variable.
const seconds = envWholeNumber('bench:scoring', 'BENCH_SECONDS', 5);
const clients = envWholeNumber('bench:scoring', 'BENCH_CLIENTS', 4);

try {
  await perSpan();
  const without = await pipeline(false, seconds, clients);
  const withIt = await pipeline(true, seconds, clients);
  console.log(
    `\nwhole sidecar, OTLP/HTTP protobuf, 512 spans per request, ${clients} keep-alive clients, ${seconds}s, null exporter`,
  );
  console.log('| pipeline | spans/s | p50 ms | p99 ms |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [label, r] of [
    ['otlp -> null', without],
    ['otlp -> anomaly -> null', withIt],
  ] as const) {
    console.log(
      `| ${label} | ${Math.round(r.spansPerSecond).toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
    );
  }
  console.log(
    `\ndetection costs ${((1 - withIt.spansPerSecond / without.spansPerSecond) * 100).toFixed(1)}% of the pass-through throughput`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
