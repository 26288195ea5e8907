import { describe, expect, it } from 'vitest';
import {
  encodeSummarySpans,
  newSpanId,
} from '../../../src/connectors/llm-summary/internal/publishing/summary-span.js';
import { validateRequest } from '../../../src/otlp/validate.js';
import { decodeReference } from '../../helpers/reference-decoder.js';

const b64hex = (s: string) => Buffer.from(s, 'base64').toString('hex');

describe('summary spans', () => {
  it('encode a valid trace request under the sidecar resource, one span per summary', () => {
    const spanId = newSpanId();
    const bytes = encodeSummarySpans(
      [
        {
          traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
          parentSpanId: '00f067aa0ba902b7',
          spanId,
          startMs: Date.UTC(2026, 0, 5, 9, 31) + 0.25,
          endMs: Date.UTC(2026, 0, 5, 9, 31, 2),
          attributes: [
            ['anomaly.summary.text', 'payments is slow — naïve café ☕'],
            ['anomaly.summary.severity_number', 1],
            ['anomaly.summary.origin.excess_ms', 500.5],
            ['anomaly.summary.fallback', true],
          ],
        },
      ],
      { 'service.name': 'hourglass' },
      '0.1.0',
    );
    expect(validateRequest('traces', bytes).items).toBe(1);
    const doc = decodeReference('traces', bytes);
    const rs = doc['resourceSpans'][0];
    expect(rs.resource.attributes).toMatchObject([
      { key: 'service.name', value: { stringValue: 'hourglass' } },
    ]);
    expect(rs.scopeSpans[0].scope).toMatchObject({
      name: 'hourglass/llm_summary',
      version: '0.1.0',
    });
    const span = rs.scopeSpans[0].spans[0];
    expect(b64hex(span.traceId)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(b64hex(span.spanId)).toBe(spanId);
    expect(b64hex(span.parentSpanId)).toBe('00f067aa0ba902b7');
    expect(span.name).toBe('anomaly.summary');
    expect(span.kind).toBe(1);
    expect(span.startTimeUnixNano).toBe('1767605460000250000');
    expect(span.endTimeUnixNano).toBe('1767605462000000000');
    expect(span.attributes).toMatchObject([
      { key: 'anomaly.summary.text', value: { stringValue: 'payments is slow — naïve café ☕' } },
      { key: 'anomaly.summary.severity_number', value: { intValue: '1' } },
      { key: 'anomaly.summary.origin.excess_ms', value: { doubleValue: 500.5 } },
      { key: 'anomaly.summary.fallback', value: { boolValue: true } },
    ]);
  });

  it('span ids are fresh and never all zero', () => {
    const ids = new Set(Array.from({ length: 1000 }, newSpanId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});
