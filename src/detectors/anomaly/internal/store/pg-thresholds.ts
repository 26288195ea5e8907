import type { SlotThresholds } from '../thresholds.js';

/** The fifteen column arrays of one key's thresholds, for an INSERT ... SELECT unnest(...). */
export function thresholdColumns(keyId: number, slots: readonly SlotThresholds[]): unknown[][] {
  const nullable = (v: number) => (Number.isFinite(v) ? v : null);
  const z = (t: SlotThresholds, k: number) => (t.z ? t.z[k]! : null);
  return [
    slots.map(() => keyId),
    slots.map((t) => t.slot),
    slots.map((t) => t.samples),
    slots.map((t) => t.mean),
    slots.map((t) => t.stddev),
    slots.map((t) => nullable(t.p50)),
    slots.map((t) => nullable(t.p95)),
    slots.map((t) => nullable(t.p99)),
    ...[0, 1, 2, 3, 4].map((k) => slots.map((t) => z(t, k))),
    slots.map((t) => t.source),
    slots.map((t) => t.computedAt),
  ];
}
