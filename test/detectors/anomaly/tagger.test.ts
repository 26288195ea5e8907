import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../../src/detectors/anomaly/internal/anomaly-record.js';
import { windowLabels, type Scope } from '../../../src/detectors/anomaly/internal/slots.js';
import { AttributeEncoder } from '../../../src/detectors/anomaly/internal/tagger.js';
import { rewriteItems } from '../../../src/otlp/rewrite.js';
import { indexSpans } from '../../../src/otlp/trace-index.js';
import { decodeSpans, traceRequest } from '../helpers/traces.js';

const encoder = new AttributeEncoder('latency', windowLabels('Europe/Berlin'));

function tag(record: Partial<AnomalyRecord>, slot: number) {
  const bytes = traceRequest([
    { name: 'op', startMs: 1_700_000_000_000, durationMs: 5, attributes: { own: 'kept' } },
  ]);
  const span = indexSpans(bytes).spans[0]!;
  const full: AnomalyRecord = {
    id: 'x',
    traceId: 'x',
    spanId: 'y',
    service: 's',
    operation: 'op',
    kind: 2,
    startMs: 0,
    durationMs: 5,
    severity: 1,
    detector: 'latency',
    reason: 'slow_span',
    operationRatio: Number.NaN,
    score: 12.5,
    ratio: 3.25,
    meanMs: 1.5,
    stddevMs: 0.25,
    p99Ms: 2.75,
    samples: 40,
    scope: 'dow_hour',
    window: '',
    recordedAt: 0,
    summary: null,
    seq: 0,
    ...record,
  };
  return decodeSpans(rewriteItems(bytes, new Map([[span.start, encoder.encode(full, slot)]])))[0]!;
}

describe('anomaly attribute encoding', () => {
  it.each([1, 2, 3, 4, 5])('writes every DESIGN.md attribute for SEV%i', (severity) => {
    const span = tag({ severity }, 9);
    expect(span.attributes).toEqual({
      own: 'kept',
      'anomaly.severity': `SEV${severity}`,
      'anomaly.severity_number': severity,
      'anomaly.severity_label': ['critical', 'major', 'moderate', 'minor', 'low'][severity - 1],
      'anomaly.detector': 'latency',
      'anomaly.reason': 'slow_span',
      'anomaly.score': 12.5,
      'anomaly.ratio': 3.25,
      'anomaly.baseline.mean_ms': 1.5,
      'anomaly.baseline.stddev_ms': 0.25,
      'anomaly.baseline.p99_ms': 2.75,
      'anomaly.baseline.samples': 40,
      'anomaly.baseline.scope': 'dow_hour',
      'anomaly.baseline.window': 'Mon 09:00-10:00 Europe/Berlin',
    });
  });

  it.each<[Scope, number, string]>([
    ['hour', 168 + 23, 'daily 23:00-24:00 Europe/Berlin'],
    ['dow', 192 + 6, 'Sun 00:00-24:00 Europe/Berlin'],
    ['global', 199, 'all week Europe/Berlin'],
  ])('names the %s scope and its window', (scope, slot, window) => {
    const a = tag({ scope }, slot).attributes;
    expect([a['anomaly.baseline.scope'], a['anomaly.baseline.window']]).toEqual([scope, window]);
  });

  it('encodes large sample counts and exact doubles', () => {
    const a = tag(
      { samples: 123_456_789, score: 1 / 3, ratio: Number.POSITIVE_INFINITY },
      0,
    ).attributes;
    expect(a['anomaly.baseline.samples']).toBe(123_456_789);
    expect(a['anomaly.score']).toBe(1 / 3);
    expect(a['anomaly.ratio']).toBe(Number.POSITIVE_INFINITY);
  });

  it('says why: a slow operation carries its slowdown, a slow span does not', () => {
    const operation = tag({ reason: 'slow_operation', operationRatio: 3.5, ratio: 1.2 }, 0);
    expect(operation.attributes['anomaly.reason']).toBe('slow_operation');
    expect(operation.attributes['anomaly.operation.ratio']).toBe(3.5);
    expect(operation.attributes['anomaly.ratio']).toBe(1.2);
    const span = tag({ reason: 'slow_span', operationRatio: 3.5 }, 0);
    expect(span.attributes['anomaly.reason']).toBe('slow_span');
    expect(span.attributes).not.toHaveProperty('anomaly.operation.ratio');
  });
});
