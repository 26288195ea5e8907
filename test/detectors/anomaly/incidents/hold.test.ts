import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../../../src/detectors/anomaly/contract.js';
import { IncidentEngine } from '../../../../src/detectors/anomaly/incidents/engine.js';
import { incidentsSchema } from '../../../../src/detectors/anomaly/incidents/config.js';
import { IncidentMetrics } from '../../../../src/detectors/anomaly/incidents/incident-metrics.js';
import { IncidentStore } from '../../../../src/detectors/anomaly/incidents/incident-store.js';
import type { LevelReading } from '../../../../src/detectors/anomaly/incidents/origin-level.js';
import { indexSpans } from '../../../../src/otlp/trace-index.js';
import { SelfMetrics } from '../../../../src/telemetry/self-metrics.js';
import { traceRequest } from '../../helpers/traces.js';

const T0 = Date.UTC(2026, 0, 12, 12);
const M = 60_000;

/**
 * `hold_while_slower`: past its quiet period an incident stays open while its origin's level (the
 * processor's, here a stand-in the test moves) says the operation is still slower.
 */
describe('incident engine: hold_while_slower', () => {
  /** The level of `payments POST /charge` as the processor would report it. */
  let level: LevelReading | undefined;
  const levelOf = (service: string, operation: string) =>
    service === 'payments' && operation === 'POST /charge' ? level : undefined;

  function engine(settings: Record<string, unknown> = {}): IncidentEngine {
    return new IncidentEngine(
      incidentsSchema.parse({ sev1_confirm_within: '0s', quiet_growth: 0, ...settings }),
      new IncidentMetrics(new SelfMetrics({ processMetrics: false }), 'anomaly', 50),
      levelOf,
    );
  }

  /** A SEV1 span of `payments POST /charge` ending at `ms` after T0, tagged then. */
  function tag(e: IncidentEngine, n: number, ms: number): string | undefined {
    const traceId = n.toString(16).padStart(32, '0');
    const spanId = n.toString(16).padStart(16, '0');
    const startMs = T0 + ms - 72;
    const bytes = traceRequest([
      { service: 'payments', name: 'POST /charge', startMs, durationMs: 72, traceId, spanId },
    ]);
    const record = {
      id: `${traceId}-${spanId}`,
      traceId,
      spanId,
      service: 'payments',
      operation: 'POST /charge',
      kind: 2,
      startMs,
      durationMs: 72,
      severity: 1,
      reason: 'slow_span',
      meanMs: 20,
    } as unknown as AnomalyRecord;
    e.tick(T0 + ms);
    return e.assign(indexSpans(bytes), [{ span: 0, record }], T0 + ms)[0];
  }

  /** Untagged spans of the origin, one a minute from `fromMin` to `toMin`, at `ratio`; ticks. */
  function spans(e: IncidentEngine, fromMin: number, toMin: number, ratio: number): void {
    for (let m = fromMin; m <= toMin; m++) {
      level = { ratio, lastSpanAt: T0 + m * M };
      e.tick(T0 + m * M);
    }
  }

  const open = (e: IncidentEngine) => e.openIncidents().map((v) => v.id);
  const resolution = (e: IncidentEngine, id: string | undefined) =>
    e.get(id!, undefined)?.resolution;

  it('keeps an incident open while its origin stays slower, and the next burst joins it', () => {
    level = undefined;
    const e = engine({ hold_while_slower: 1.2 });
    const changes: string[] = [];
    e.subscribe((c) => changes.push(c.type));
    const id = tag(e, 1, 0);
    // The quiet period (5 minutes) ends; its spans keep coming 1.5x slower, none tagged.
    spans(e, 1, 120, 1.5);
    expect(open(e)).toEqual([id]);
    // Two hours later the next burst of tags: the same incident, never resolved in between.
    expect(tag(e, 2, 121 * M)).toBe(id);
    expect(changes.filter((c) => c !== 'updated')).toEqual(['opened']);
  });

  it('resolves after its quiet period when no span of its origin came after its last tag', () => {
    // A short fault whose traffic stops (or a gap in the data): nothing says it goes on.
    level = { ratio: 3, lastSpanAt: T0 };
    const e = engine({ hold_while_slower: 1.2 });
    const id = tag(e, 1, 0);
    e.tick(T0 + 5 * M - 1);
    expect(open(e)).toEqual([id]);
    e.tick(T0 + 5 * M);
    expect(open(e)).toEqual([]);
    expect(resolution(e, id)).toBe('quiet');
  });

  it('resolves once no span of its origin came for its quiet period (the traffic stopped)', () => {
    level = undefined;
    const e = engine({ hold_while_slower: 1.2 });
    const id = tag(e, 1, 0);
    spans(e, 1, 10, 2);
    e.tick(T0 + 15 * M);
    expect(open(e)).toEqual([id]);
    e.tick(T0 + 15 * M + 1);
    expect(open(e)).toEqual([]);
    expect(resolution(e, id)).toBe('spans_stopped');
  });

  it('resolves once the mean of at least five readings is back under the bar', () => {
    level = undefined;
    const e = engine({ hold_while_slower: 1.2 });
    const id = tag(e, 1, 0);
    // Back to normal after the fault: four readings are not a level yet, the fifth resolves it.
    spans(e, 1, 8, 1.0);
    expect(open(e)).toEqual([id]);
    spans(e, 9, 9, 1.0);
    expect(open(e)).toEqual([]);
    expect(resolution(e, id)).toBe('recovered');
    // With the setting off (0, the default) the same incident resolves at its quiet period.
    const f = engine({ hold_while_slower: 0 });
    const other = tag(f, 2, 0);
    spans(f, 1, 4, 1.5);
    expect(open(f)).toEqual([other]);
    spans(f, 5, 5, 1.5);
    expect(open(f)).toEqual([]);
    expect(resolution(f, other)).toBe('quiet');
  });

  it('holds for at most max_hold after its origin last tagged it', () => {
    level = undefined;
    const e = engine({ hold_while_slower: 1.2, max_hold: '1h' });
    const id = tag(e, 1, 0);
    spans(e, 1, 60, 2);
    expect(open(e)).toEqual([id]);
    spans(e, 61, 61, 2);
    expect(open(e)).toEqual([]);
    expect(resolution(e, id)).toBe('max_hold');
  });

  it('keeps its hold across a restart (the store is the processor SQLite file)', () => {
    level = undefined;
    const db = new Database(':memory:');
    const store = new IncidentStore(db);
    const e = engine({ hold_while_slower: 1.2 });
    const id = tag(e, 1, 0);
    spans(e, 1, 8, 1.5); // four readings of 1.5x since the quiet ended
    e.write(store, T0 + 8 * M);
    const after = engine({ hold_while_slower: 1.2 });
    after.load(store);
    expect(open(after)).toEqual([id]);
    // Five readings of 1.1x after the restart: with the four before, a mean of 1.26x, still
    // slower than the bar; forgotten readings would have resolved it at the fifth.
    spans(after, 9, 13, 1.1);
    expect(open(after)).toEqual([id]);
    spans(after, 14, 40, 1.0);
    expect(open(after)).toEqual([]);
    expect(resolution(after, id)).toBe('recovered');
    db.close();
  });
});
