import { describe, expect, it } from 'vitest';
import { captureExporterFactory } from '../../helpers/capture-exporter.js';
import { metricValue, useSummaryBed } from './harness.js';
import { metricsRequest } from './metric-data.js';
import { checkoutTrace, spanIdOf, T0, traceIdOf } from './trace-data.js';

const bed = useSummaryBed();

describe('llm_summary exporter with the builtin provider, in a running sidecar', () => {
  it('writes one anomaly.summary span into the trace, under the origin span, through the trace exporter', async () => {
    const b = await bed({ trace_window: '5s', batch: { timeout: '30s' } });
    await b.sendMetrics(
      metricsRequest('payments', [
        { type: 'gauge', name: 'process.cpu.utilization', points: [{ atMs: T0, value: 0.001 }] },
      ]),
    );
    const [root, call, pay, db] = checkoutTrace(1, 500, { frontend: 1, client: 1, payments: 1 });
    await b.send([db!, pay!]); // the downstream service's spans come first
    await b.send([call!, root!]);
    await b.send(checkoutTrace(2, 0)); // a normal trace at the same time
    await b.sink.waitFor(8); // every span was forwarded at once
    b.clock.advance(5_000); // the trace window passes: queued, the batch waits for its timeout
    await b.engine.idle();
    expect(b.summaries()).toEqual([]);
    b.clock.advance(30_000);
    await b.sink.waitFor(9);
    await b.engine.idle();
    const [summary] = b.summaries();
    expect(b.summaries()).toHaveLength(1);
    expect(summary).toMatchObject({
      service: 'hourglass',
      traceId: traceIdOf(1),
      parentSpanId: spanIdOf(13), // the payments server span: the origin
    });
    expect(summary!.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set([root, call, pay, db].map((s) => s!.spanId))).not.toContain(summary!.spanId);
    expect(summary!.attributes).toMatchObject({
      'anomaly.summary.provider': 'builtin',
      'anomaly.summary.model': 'builtin',
      'anomaly.summary.severity': 'SEV1',
      'anomaly.summary.severity_number': '1',
      'anomaly.summary.origin.service': 'payments',
      'anomaly.summary.origin.operation': 'POST /charge',
      'anomaly.summary.origin.span_id': spanIdOf(13),
      'anomaly.summary.anomaly_id': `${traceIdOf(1)}-${spanIdOf(13)}`,
      'anomaly.summary.anomalies': '3',
    });
    expect(summary!.attributes['anomaly.summary.text']).toMatch(
      /^frontend GET \/checkout \(server\) took 580\.0 ms, 7\.3x its baseline mean of 80\.0 ms .* Likely origin: payments POST \/charge \(server\).*payments metrics: CPU 0\.1%\.$/,
    );
    // Summary time: when it was written (after the window and the batch timeout).
    expect(Number(BigInt(summary!.startTimeUnixNano) / 1_000_000n)).toBe(T0 + 35_000);
    expect(
      await metricValue(b.sidecar, 'hourglass_llm_summary_summaries_total', {
        provider: 'builtin',
      }),
    ).toBe(1);
    expect(b.engine.summaries!.find(`${traceIdOf(1)}-${spanIdOf(11)}`)).toMatchObject({
      provider: 'builtin',
      originService: 'payments',
      anomalyIds: [
        `${traceIdOf(1)}-${spanIdOf(11)}`,
        `${traceIdOf(1)}-${spanIdOf(12)}`,
        `${traceIdOf(1)}-${spanIdOf(13)}`,
      ],
    });
  });

  it('batches: ten anomalous traces are summarized at once, without waiting for the timeout', async () => {
    const b = await bed({ trace_window: '1s', batch: { timeout: '30s', max_anomalies: 10 } });
    for (let n = 1; n <= 10; n++) await b.send(checkoutTrace(n, 500, { payments: 2 }));
    b.clock.advance(1_000);
    await b.sink.waitFor(40 + 10);
    await b.engine.idle();
    expect(new Set(b.summaries().map((s) => s.traceId)).size).toBe(10);
  });

  it('sends summary spans only to the exporters of its own pipelines, never back through processors', async () => {
    const capture = captureExporterFactory();
    const b = await bed(
      { trace_window: '1s', batch: { timeout: '1s' } },
      {
        processors: () => ({ batch: { send_batch_size: 1 } }),
        extraExporters: { capture: {} },
        extraPipelines: { 'traces/other': { receivers: ['otlp'], exporters: ['capture'] } },
        factories: [capture],
      },
    );
    await b.send(checkoutTrace(1, 500, { payments: 1 }));
    b.clock.advance(1_000);
    b.clock.advance(1_000);
    await b.sink.waitFor(5);
    await b.engine.idle();
    expect(b.summaries()).toHaveLength(1);
    // Not through the receiver's other pipeline, not through the batch processor of its own.
    expect(capture.instances.get('capture/traces')!.items()).toBe(0);
    expect(
      await metricValue(b.sidecar, 'otelcol_processor_incoming_items_total', {
        processor: 'batch',
      }),
    ).toBe(4);
  });

  it('drains at shutdown: held traces are summarized before the trace exporter stops', async () => {
    const b = await bed({ trace_window: '1h', batch: { timeout: '1h' } });
    await b.send(checkoutTrace(1, 500, { payments: 1 }));
    await b.send(checkoutTrace(2, 300, { payments: 2 }));
    await b.sink.waitFor(8);
    await b.sidecar.shutdown();
    expect(
      b
        .summaries()
        .map((s) => s.traceId)
        .sort(),
    ).toEqual([traceIdOf(1), traceIdOf(2)]);
  });
});
