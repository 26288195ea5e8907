import type { AnomalyRecord } from '../anomaly-record.js';
import { scopeOfSlot } from '../slots.js';
import { MINUTE_MS } from './rate-state.js';
import type { TrafficDrop } from './rate-detector.js';

/**
 * A traffic drop as a record of the anomaly history: no trace, no span (`traceId` and `spanId`
 * empty), the minute judged as its start and duration, the spans seen and usually seen in it.
 * Its id names the key and the minute, so a drop is recorded once.
 */
export function dropRecord(
  drop: TrafficDrop,
  windows: readonly string[],
  now: number,
): AnomalyRecord {
  const { key } = drop;
  return {
    id: `drop-${drop.startMs}-${key.kind}-${key.service}-${key.operation}`,
    traceId: '',
    spanId: '',
    service: key.service,
    operation: key.operation,
    kind: key.kind,
    startMs: drop.startMs,
    durationMs: MINUTE_MS,
    severity: drop.severity,
    detector: 'traffic',
    reason: 'traffic_drop',
    operationRatio: Number.NaN,
    score: (drop.observed - drop.expected) / Math.sqrt(Math.max(1, drop.expected)),
    ratio: drop.expected > 0 ? drop.observed / drop.expected : 0,
    meanMs: 0,
    stddevMs: 0,
    p99Ms: 0,
    samples: drop.samples,
    scope: scopeOfSlot(drop.slot),
    window: windows[drop.slot]!,
    recordedAt: now,
    summary: null,
    seq: 0,
    observedRate: drop.observed,
    expectedRate: drop.expected,
    windowEndMs: drop.startMs + MINUTE_MS,
  };
}
