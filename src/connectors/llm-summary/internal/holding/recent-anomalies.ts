import type { SeenAnomaly } from './trace-holder.js';

/** Anomalies of other traces near the same time, grouped by service and operation. */
export interface ConcurrentAnomalies {
  readonly service: string;
  readonly operation: string;
  /** Most severe of the group, 1..5. */
  readonly severity: number;
  readonly count: number;
}

/**
 * The last anomalies seen (bounded, oldest dropped), to tell a summary what else was slow around
 * the same time in other traces.
 */
export class RecentAnomalies {
  private list: SeenAnomaly[] = [];

  constructor(private readonly max: number) {}

  add(a: SeenAnomaly): void {
    this.list.push(a);
    if (this.list.length > this.max * 2) this.list = this.list.slice(-this.max);
  }

  /** Anomalies of other traces within `windowMs` of `at`, grouped, the largest groups first. */
  around(traceId: string, at: number, windowMs: number): ConcurrentAnomalies[] {
    const groups = new Map<
      string,
      { service: string; operation: string; severity: number; count: number; traces: Set<string> }
    >();
    for (let i = Math.max(0, this.list.length - this.max); i < this.list.length; i++) {
      const a = this.list[i]!;
      if (a.traceId === traceId || Math.abs(a.at - at) > windowMs) continue;
      const key = `${a.service}\u0000${a.operation}`;
      const g = groups.get(key);
      if (!g) {
        groups.set(key, {
          service: a.service,
          operation: a.operation,
          severity: a.severity,
          count: 1,
          traces: new Set([a.traceId]),
        });
      } else if (!g.traces.has(a.traceId)) {
        g.traces.add(a.traceId);
        g.count++;
        g.severity = Math.min(g.severity, a.severity);
      }
    }
    return [...groups.values()]
      .sort(
        (x, y) =>
          y.count - x.count || x.severity - y.severity || x.service.localeCompare(y.service),
      )
      .map(({ service, operation, severity, count }) => ({ service, operation, severity, count }));
  }
}
