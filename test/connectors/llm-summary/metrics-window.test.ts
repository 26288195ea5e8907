import { ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { percentile } from '../../../src/connectors/llm-summary/internal/metrics/metric-deltas.js';
import {
  MetricsWindow,
  type ReadingSummary,
} from '../../../src/connectors/llm-summary/internal/metrics/metrics-window.js';
import { makeResourceMetrics } from '../../helpers/metrics.js';
import { metricsRequest } from './metric-data.js';

const T = Date.UTC(2026, 0, 5, 9, 30);
const LIMITS = { windowMs: 300_000, maxServices: 10, maxSamples: 100 };

function byReading(list: ReadingSummary[]): Record<string, ReadingSummary> {
  return Object.fromEntries(list.map((r) => [r.reading, r]));
}

describe('metrics window', () => {
  it('reads what the real metrics SDK sends: CPU utilization and the server duration histogram', async () => {
    const w = new MetricsWindow(LIMITS);
    const rm = await makeResourceMetrics('cart');
    const now = Date.now();
    w.ingest(ProtobufMetricsSerializer.serializeRequest(rm)!, now);
    const r = byReading(w.read('cart', now));
    expect(r['cpu']).toMatchObject({ source: 'process.cpu.utilization', last: 1.3 });
    // Four requests (21 ms and 350 ms, on two routes) all fall in the SDK's default 0-5 bucket
    // (its default boundaries are meant for ms; the unit is s): the median reads 2.5 s.
    expect(r['latency_p50']).toMatchObject({ source: 'http.server.request.duration', last: 2500 });
    expect(r['latency_p99']!.last).toBeCloseTo(4950, 9);
    expect(r['error_rate']!.last).toBe(0);
    expect(w.read('other', now)).toEqual([]);
  });

  it('keeps CPU as it is: 0.1% is 0.1%, idle modes excluded, per-CPU points averaged', () => {
    const w = new MetricsWindow(LIMITS);
    w.ingest(
      metricsRequest('payments', [
        {
          type: 'gauge',
          name: 'system.cpu.utilization',
          unit: '1',
          points: [
            { atMs: T, value: 0.0008, attributes: { cpu: '0', 'cpu.mode': 'user' } },
            { atMs: T, value: 0.0002, attributes: { cpu: '0', 'cpu.mode': 'system' } },
            { atMs: T, value: 0.999, attributes: { cpu: '0', 'cpu.mode': 'idle' } },
            { atMs: T, value: 0.001, attributes: { cpu: '1', 'cpu.mode': 'user' } },
            { atMs: T, value: 0.999, attributes: { cpu: '1', 'cpu.mode': 'idle' } },
          ],
        },
      ]),
      T,
    );
    expect(w.read('payments', T)[0]).toMatchObject({ reading: 'cpu', last: 0.1 });
  });

  it('turns cumulative CPU seconds into a rate and memory into bytes in use', () => {
    const w = new MetricsWindow(LIMITS);
    const cpu = (atMs: number, user: number, system: number) => ({
      type: 'sum' as const,
      name: 'process.cpu.time',
      unit: 's',
      points: [
        { atMs, startMs: T - 3_600_000, value: user, attributes: { 'cpu.mode': 'user' } },
        { atMs, startMs: T - 3_600_000, value: system, attributes: { 'cpu.mode': 'system' } },
      ],
    });
    const memory = (atMs: number, heap: number) => ({
      type: 'gauge' as const,
      name: 'jvm.memory.used',
      unit: 'By',
      points: [
        { atMs, value: heap, attributes: { 'jvm.memory.pool.name': 'G1 Eden' } },
        { atMs, value: 1_000_000, attributes: { 'jvm.memory.pool.name': 'Metaspace' } },
      ],
    });
    // The first value covers an hour-old series: not a rate of now, skipped.
    w.ingest(metricsRequest('payments', [cpu(T, 100, 20), memory(T, 9_000_000)]), T);
    // 15 s later: 1.2 + 0.3 CPU seconds more = 10% of one core.
    w.ingest(
      metricsRequest('payments', [cpu(T + 15_000, 101.2, 20.3), memory(T + 15_000, 19_000_000)]),
      T + 15_000,
    );
    const r = byReading(w.read('payments', T + 15_000));
    expect(r['cpu']!.samples).toBe(1);
    expect(r['cpu']!.last).toBeCloseTo(10, 9);
    expect(r['memory']).toMatchObject({
      last: 20_000_000,
      min: 10_000_000,
      max: 20_000_000,
      samples: 2,
    });
  });

  it('request rate, error rate and percentiles from cumulative histograms, per interval', () => {
    const w = new MetricsWindow(LIMITS);
    const bounds = [0.01, 0.05, 0.1, 0.5, 1];
    const hist = (atMs: number, ok: number[], failed: number[]) => ({
      type: 'histogram' as const,
      name: 'http.server.request.duration',
      unit: 's',
      boundaries: bounds,
      points: [
        { atMs, startMs: T - 60_000, counts: ok, attributes: { 'http.response.status_code': 200 } },
        {
          atMs,
          startMs: T - 60_000,
          counts: failed,
          attributes: { 'http.response.status_code': 503 },
        },
      ],
    });
    w.ingest(metricsRequest('payments', [hist(T, [0, 100, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0])]), T);
    // In the next 10 s: 90 fast requests and 10 failures that took 0.5-1 s.
    w.ingest(
      metricsRequest('payments', [hist(T + 10_000, [0, 190, 0, 0, 0, 0], [0, 0, 0, 0, 10, 0])]),
      T + 10_000,
    );
    const r = byReading(w.read('payments', T + 10_000));
    expect(r['request_rate']!.last).toBeCloseTo(10, 9); // 100 requests in 10 s
    expect(r['error_rate']!.last).toBeCloseTo(10, 9);
    expect(r['latency_p50']!.last).toBeCloseTo(10 + 40 * (50 / 90), 6); // ms, inside 10-50 ms
    expect(r['latency_p99']!.last).toBeCloseTo(500 + 500 * ((99 - 90) / 10), 6);
    // The first collection (a fresh series, started a minute before) counts too.
    expect(r['request_rate']!.samples).toBe(2);
    expect(r['request_rate']!.min).toBeCloseTo(100 / 60, 9);
  });

  it('reads delta histograms as they are, and old ms-based names', () => {
    const w = new MetricsWindow(LIMITS);
    w.ingest(
      metricsRequest('legacy', [
        {
          type: 'histogram',
          name: 'http.server.duration',
          unit: 'ms',
          cumulative: false,
          boundaries: [100, 200],
          points: [
            {
              atMs: T,
              startMs: T - 5_000,
              counts: [0, 50, 0],
              attributes: { 'http.status_code': 200 },
            },
          ],
        },
      ]),
      T,
    );
    const r = byReading(w.read('legacy', T));
    expect(r['request_rate']!.last).toBe(10);
    expect(r['latency_p50']!.last).toBe(150);
  });

  it('percentiles: interpolated in their bucket; the overflow bucket gives its lower bound', () => {
    expect(percentile([10, 10], [5], 0.25)).toBe(2.5);
    expect(percentile([0, 0, 4], [1, 2], 0.99)).toBe(2);
    expect(percentile([0, 0], [1], 0.5)).toBeUndefined();
  });

  it('is bounded: old samples leave the window, samples per reading and services are capped', () => {
    const w = new MetricsWindow({ windowMs: 60_000, maxServices: 2, maxSamples: 3 });
    const gauge = (service: string, atMs: number, value: number) =>
      w.ingest(
        metricsRequest(service, [
          { type: 'gauge', name: 'process.cpu.utilization', points: [{ atMs, value }] },
        ]),
        atMs,
      );
    for (let i = 0; i < 5; i++) gauge('a', T + i * 1000, i / 100);
    expect(w.read('a', T + 4000)[0]).toMatchObject({ samples: 3, min: 2, max: 4 });
    gauge('a', T + 120_000, 0.5);
    expect(w.read('a', T + 120_000)[0]).toMatchObject({ samples: 1, last: 50 });
    gauge('b', T, 0.1);
    gauge('c', T, 0.1);
    expect(w.size).toBe(2);
    expect(w.droppedServices).toBe(1);
    expect(w.read('a', T + 120_000)).toEqual([]); // least recently updated, dropped
  });
});
