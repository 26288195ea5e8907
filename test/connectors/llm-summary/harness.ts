import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { stringify } from 'yaml';
import type { Consumer } from '../../../src/component/consumer.js';
import type { AnyFactory } from '../../../src/component/factory.js';
import type { LlmSummaryConnector } from '../../../src/connectors/llm-summary/llm-summary-connector.js';
import type { SummaryEngine } from '../../../src/connectors/llm-summary/summary-engine.js';
import { FakeClock } from '../../helpers/fake-clock.js';
import { OtlpSink, type SinkSpan } from '../../helpers/otlp-sink.js';
import type { Sidecar } from '../../../src/main.js';
import { startTestSidecar } from '../../helpers/sidecar.js';
import { encodeTrace, T0, type TestSpan } from './trace-data.js';

export interface SummaryBed {
  readonly sidecar: Sidecar;
  readonly sink: OtlpSink;
  readonly clock: FakeClock;
  readonly dir: string;
  readonly traces: Consumer;
  readonly metrics: Consumer;
  readonly engine: SummaryEngine;
  /** Sends spans into the traces pipeline (as the receiver would), resolving when accepted. */
  send(spans: readonly TestSpan[]): Promise<void>;
  sendMetrics(bytes: Uint8Array, points?: number): Promise<void>;
  /** The `anomaly.summary` spans Jaeger received. */
  summaries(): SinkSpan[];
}

/**
 * Per test: a real sidecar whose traces pipeline fans out to a real OTLP exporter (Jaeger: an
 * OtlpSink) and the llm_summary connector, whose metrics pipeline feeds llm_summary, and whose
 * traces/summaries pipeline takes the summary spans from llm_summary to Jaeger; a fake
 * clock; everything stopped afterwards.
 */
export function useSummaryBed() {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return async (
    summary: Record<string, unknown>,
    o: {
      clock?: FakeClock;
      /** Processors of the traces pipeline (a function of the test's temporary directory). */
      processors?: (dir: string) => Record<string, unknown>;
      extensions?: Record<string, unknown>;
      extraPipelines?: Record<string, unknown>;
      extraExporters?: Record<string, unknown>;
      factories?: AnyFactory[];
    } = {},
  ): Promise<SummaryBed> => {
    const dir = mkdtempSync(join(tmpdir(), 'hourglass-llm-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sink = await OtlpSink.start();
    cleanups.push(() => sink.close());
    const clock = o.clock ?? new FakeClock(T0);
    const processors = o.processors?.(dir) ?? {};
    const doc = {
      receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
      processors,
      exporters: {
        'otlp/jaeger': {
          endpoint: sink.grpcEndpoint,
          tls: { insecure: true },
          sending_queue: { enabled: false },
        },
        ...o.extraExporters,
      },
      connectors: { llm_summary: { storage: join(dir, 'summaries.db'), ...summary } },
      extensions: o.extensions ?? {},
      service: {
        extensions: Object.keys(o.extensions ?? {}),
        pipelines: {
          traces: {
            receivers: ['otlp'],
            processors: Object.keys(processors),
            exporters: ['otlp/jaeger', 'llm_summary'],
          },
          metrics: { receivers: ['otlp'], exporters: ['llm_summary'] },
          'traces/summaries': { receivers: ['llm_summary'], exporters: ['otlp/jaeger'] },
          ...o.extraPipelines,
        },
        telemetry: { metrics: { level: 'none' } },
      },
    };
    const sidecar = await startTestSidecar(stringify(doc), { clock, factories: o.factories ?? [] });
    cleanups.push(() => sidecar.shutdown());
    const traces = sidecar.service.pipelineEntries.get('traces')!;
    const metrics = sidecar.service.pipelineEntries.get('metrics')!;
    const engine = sidecar.service.find<LlmSummaryConnector>('connector', 'llm_summary')!.engine;
    return {
      sidecar,
      sink,
      clock,
      dir,
      traces,
      metrics,
      engine,
      send: (spans) =>
        traces.consume({ signal: 'traces', bytes: encodeTrace(spans), items: spans.length }),
      sendMetrics: (bytes, points = 1) =>
        metrics.consume({ signal: 'metrics', bytes, items: points }),
      summaries: () => sink.spans().filter((s) => s.name === 'anomaly.summary'),
    };
  };
}

export { metricValue } from '../../helpers/self-metrics.js';
