import { spanKindName } from './anomaly-record.js';
import type { KeyState } from './key-state.js';
import { THR_P99, THR_SEV5, THR_SEVERITIES, THR_STRIDE } from './thr-layout.js';
import { countAt, meanAt, stddevAt } from './moments.js';
import { named } from './recalculate.js';
import { DOW_BASE, GLOBAL_SLOT, HOUR_BASE, scopeOfSlot, type Scope } from './slots.js';
import { effectiveStddev, type SlotThresholds } from './thresholds.js';
import { DOW_NAMES } from './time-buckets.js';

export interface SlotProfile {
  readonly scope: Scope;
  readonly window: string;
  readonly day_of_week: string | null;
  readonly hour: number | null;
  readonly samples: number;
  readonly mean_ms: number | null;
  readonly stddev_ms: number | null;
  /** From the last recalculation (sketch percentiles); null before one has run for this slot. */
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly p99_ms: number | null;
  /** Thresholds of this slot: learned ones, or the fixed cold-start ones. */
  readonly thresholds: {
    readonly source: 'learned' | 'fixed';
    readonly sigma: Record<string, number>;
    /** The same thresholds as durations: mean + sigma x stddev. */
    readonly ms: Record<string, number> | null;
  };
  /** For dow_hour buckets: which slot scores a span in this bucket now (the fallback chain). */
  readonly served_by?: { readonly scope: Scope; readonly window: string } | null;
}

export interface BaselineProfile {
  readonly service: string;
  readonly operation: string;
  readonly kind: string;
  readonly timezone: string;
  readonly min_samples: number;
  readonly thresholds_computed_at: string | null;
  /** The 168 day-of-week x hour-of-day buckets, Monday 00:00 first. */
  readonly buckets: SlotProfile[];
  readonly hours: SlotProfile[];
  readonly days: SlotProfile[];
  readonly global: SlotProfile;
}

export interface ProfileContext {
  readonly timeZone: string;
  readonly minSamples: number;
  readonly windows: readonly string[];
  /** `[sev5 .. sev1]` cold-start thresholds. */
  readonly fixed: readonly number[];
}

/** A key's profile: live moments from memory, percentiles from the last recalculation. */
export function buildProfile(
  key: KeyState,
  stored: readonly SlotThresholds[],
  ctx: ProfileContext,
): BaselineProfile {
  const bySlot = new Map(stored.map((t) => [t.slot, t]));
  const slot = (s: number): SlotProfile => slotProfile(key, s, bySlot.get(s), ctx);
  const computed = stored.reduce((max, t) => Math.max(max, t.computedAt), 0);
  return {
    service: key.service,
    operation: key.operation,
    kind: spanKindName(key.kind),
    timezone: ctx.timeZone,
    min_samples: ctx.minSamples,
    thresholds_computed_at: computed > 0 ? new Date(computed).toISOString() : null,
    buckets: Array.from({ length: HOUR_BASE }, (_, s) => {
      const serving = key.servingSlot(s, ctx.minSamples);
      return {
        ...slot(s),
        served_by:
          serving < 0 ? null : { scope: scopeOfSlot(serving), window: ctx.windows[serving]! },
      };
    }),
    hours: Array.from({ length: 24 }, (_, h) => slot(HOUR_BASE + h)),
    days: Array.from({ length: 7 }, (_, d) => slot(DOW_BASE + d)),
    global: slot(GLOBAL_SLOT),
  };
}

function slotProfile(
  key: KeyState,
  s: number,
  stored: SlotThresholds | undefined,
  ctx: ProfileContext,
): SlotProfile {
  const n = countAt(key.m, s);
  const mean = meanAt(key.m, s);
  const stddev = stddevAt(key.m, s);
  const at = s * THR_STRIDE;
  const learned = !Number.isNaN(key.thr[at + THR_SEV5]!);
  const sd = effectiveStddev(mean, stddev);
  const ms = learned
    ? Array.from(key.thr.subarray(at + THR_SEV5, at + THR_SEV5 + THR_SEVERITIES))
    : ctx.fixed.map((z) => mean + z * sd);
  const z = learned ? ms.map((v) => (v - mean) / sd) : [...ctx.fixed];
  const round = (v: number) => Math.round(v * 1000) / 1000;
  const orNull = (v: number | undefined) =>
    v === undefined || !Number.isFinite(v) ? null : round(v);
  return {
    scope: scopeOfSlot(s),
    window: ctx.windows[s]!,
    day_of_week:
      s < HOUR_BASE
        ? DOW_NAMES[Math.floor(s / 24)]!
        : s >= DOW_BASE && s < GLOBAL_SLOT
          ? DOW_NAMES[s - DOW_BASE]!
          : null,
    hour: s < HOUR_BASE ? s % 24 : s >= HOUR_BASE && s < DOW_BASE ? s - HOUR_BASE : null,
    samples: n,
    mean_ms: n > 0 ? round(mean) : null,
    stddev_ms: n > 1 ? round(stddev) : null,
    p50_ms: orNull(stored?.p50),
    p95_ms: orNull(stored?.p95),
    p99_ms: orNull(key.thr[at + THR_P99]),
    thresholds: {
      source: learned ? 'learned' : 'fixed',
      sigma: named(z)!,
      ms: n > 1 ? named(ms) : null,
    },
  };
}
