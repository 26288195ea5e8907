import { afterEach, describe, expect, it } from 'vitest';
import { OtlpSink } from '../helpers/otlp-sink.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';

/**
 * The sidecar's own metrics, as the Collector publishes them (its service/metadata.yaml):
 * `process_uptime` and `process_cpu_seconds` are monotonic sums, so Prometheus counters
 * `otelcol_process_uptime_seconds_total` and `otelcol_process_cpu_seconds_total`; the receivers'
 * refused and the exporters' send-failed series exist from the start, at 0, so that dashboard
 * ratios (refused / accepted, failed / sent) show numbers, not "no data".
 */
const sidecars: TestSidecar[] = [];
const sinks: OtlpSink[] = [];
afterEach(async () => {
  await Promise.all(sidecars.splice(0).map((s) => s.shutdown()));
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

async function scrape(s: TestSidecar): Promise<string> {
  return (await fetch(`${s.telemetryUrl}/metrics`)).text();
}

const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('self-metrics', () => {
  it('publishes process uptime and CPU time as counters that only grow', async () => {
    const s = await startTestSidecar(`
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { debug: {} }
service:
  pipelines: { traces: { receivers: [otlp], exporters: [debug] } }
  telemetry: { metrics: { address: 127.0.0.1:0 } }
`);
    sidecars.push(s);
    const first = await scrape(s);
    for (const name of [
      'otelcol_process_uptime_seconds_total',
      'otelcol_process_cpu_seconds_total',
    ]) {
      expect(first).toContain(`# TYPE ${name} counter\n`);
    }
    expect(first).toContain('# TYPE otelcol_process_memory_rss_bytes gauge\n');
    let spin = 0;
    for (let i = 0; i < 2e6; i++) spin += i; // some CPU time between the two scrapes
    expect(spin).toBeGreaterThan(0);
    const second = await scrape(s);
    for (const name of [
      'otelcol_process_uptime_seconds_total',
      'otelcol_process_cpu_seconds_total',
    ]) {
      expect(value(first, name)).toBeGreaterThan(0);
      expect(value(second, name)!).toBeGreaterThan(value(first, name)!);
    }
  });

  it('has the refused and send-failed series at 0 before any data, for every receiver transport and exporter', async () => {
    const sink = await OtlpSink.start();
    sinks.push(sink);
    const s = await startTestSidecar(`
receivers:
  otlp: { protocols: { grpc: { endpoint: 127.0.0.1:0 }, http: { endpoint: 127.0.0.1:0 } } }
exporters:
  otlp/jaeger: { endpoint: "${sink.grpcEndpoint}", tls: { insecure: true } }
  debug: {}
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [otlp/jaeger] }
    logs: { receivers: [otlp], exporters: [debug] }
  telemetry: { metrics: { address: 127.0.0.1:0 } }
`);
    sidecars.push(s);
    const text = await scrape(s);
    for (const transport of ['grpc', 'http']) {
      for (const item of ['spans', 'log_records']) {
        for (const what of ['accepted', 'refused']) {
          expect(
            value(
              text,
              `otelcol_receiver_${what}_${item}_total{receiver="otlp",transport="${transport}"}`,
            ),
          ).toBe(0);
        }
      }
      // No metrics pipeline: no metric_points series for the receiver.
      expect(text).not.toContain(`otelcol_receiver_refused_metric_points_total{receiver="otlp"`);
    }
    for (const [exporter, item] of [
      ['otlp/jaeger', 'spans'],
      ['debug', 'log_records'],
    ] as const) {
      for (const what of ['sent', 'send_failed', 'enqueue_failed']) {
        expect(value(text, `otelcol_exporter_${what}_${item}_total{exporter="${exporter}"}`)).toBe(
          0,
        );
      }
    }
  });
});
