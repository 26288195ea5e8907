import type { IncidentView } from '../incidents/incident.js';
import type { Fault } from './faults.js';
import { AFTER_MS, BEFORE_MS, FAULT_MS } from './protocol.js';
import type { ReplayRun } from './replay.js';
import type { SpanTable } from './span-table.js';

/**
 * What the incidents matching no latency fault are (issue 13), each in the first class it fits:
 *
 * - `other_fault`: it matches a non-latency fault (`cpu_consumed`, `exception`, `return`) as an
 *   incident matches a latency one: opened within its four minutes, touching its service;
 * - `aftermath`: it opened up to eight minutes after an injection (any fault's): the datasets'
 *   README says shared resources elsewhere slow down then, real slowdowns the labels do not cover;
 * - `before`: it opened in the minute before an injection;
 * - `none`: none of these (plausibly a false page).
 */
export type UnmatchedKind = 'other_fault' | 'aftermath' | 'before' | 'none';

export const UNMATCHED_KINDS: readonly UnmatchedKind[] = [
  'other_fault',
  'aftermath',
  'before',
  'none',
];

export interface UnmatchedIncident {
  readonly id: string;
  readonly openedAt: number;
  readonly kind: UnmatchedKind;
  /** The fault it is put beside (`other_fault`, `aftermath`, `before`): its type and service. */
  readonly fault: { readonly type: string; readonly service: string } | null;
  /** Seconds from that fault's injection to its opening (negative: before it). */
  readonly afterInjectionS: number | null;
  /**
   * Seconds from its opening to the next injection, null after the last: the trace files hold
   * about 95 s before each injection, so an incident opened there follows the previous one too.
   */
  readonly nextInjectionS: number | null;
  /** The engine's rule that opened it (`openingRule`). */
  readonly rule: string;
  readonly origin: string;
  readonly spans: number;
  /**
   * Its spans (those carrying its id) against their operation's median duration in the history
   * (the replayed files when there is none): the median and the largest ratio; null without spans.
   */
  readonly slowerBy: { readonly median: number; readonly max: number } | null;
}

export interface UnmatchedBreakdown {
  /** Incidents per class, in `UNMATCHED_KINDS` order; they add up to the unmatched count. */
  readonly counts: Readonly<Record<UnmatchedKind, number>>;
  readonly incidents: readonly UnmatchedIncident[];
}

/**
 * The engine's rule that opened an incident (engine.ts, `opensIncident` and the sustained
 * count), read from what the incident keeps: its severity at opening and the reason of the span
 * that opened it. A SEV1 `slow_operation` tag meets two rules; it is counted as `slow_operation`.
 */
export function openingRule(v: IncidentView): string {
  const first = v.timeline[0]?.severity ?? v.severity;
  if (v.reason === 'slow_operation') return 'slow_operation SEV<=3';
  if (v.reason === 'slow_span') return first === 1 ? 'SEV1 span' : 'five SEV<=3 tags in 1 min';
  return v.reason;
}

/** The incident touches the service: its origin, the peer of its call edge, or one of its services. */
export function touches(v: IncidentView, service: string): boolean {
  return (
    v.origin?.service === service ||
    v.origin?.peerService === service ||
    v.services.some((s) => s.service === service)
  );
}

/** Classifies the incidents that matched no latency fault (`unmatched`), given every fault. */
export function classifyUnmatched(
  run: ReplayRun,
  unmatched: readonly IncidentView[],
  faults: readonly Fault[],
  originOf: (v: IncidentView) => string,
): UnmatchedBreakdown {
  const counts = { other_fault: 0, aftermath: 0, before: 0, none: 0 };
  const slower = slowerByIncident(run, new Set(unmatched.map((v) => v.id)));
  const incidents = unmatched.map((v): UnmatchedIncident => {
    const [kind, f] = classify(v, faults);
    const next = faults.find((x) => x.at > v.openedAt);
    counts[kind]++;
    return {
      id: v.id,
      openedAt: v.openedAt,
      kind,
      fault: f ? { type: f.type, service: f.service } : null,
      afterInjectionS: f ? (v.openedAt - f.at) / 1000 : null,
      nextInjectionS: next ? (next.at - v.openedAt) / 1000 : null,
      rule: openingRule(v),
      origin: originOf(v),
      spans: v.spans,
      slowerBy: slower.get(v.id) ?? null,
    };
  });
  return { counts, incidents };
}

function classify(v: IncidentView, faults: readonly Fault[]): [UnmatchedKind, Fault | null] {
  const t = v.openedAt;
  const other = faults.find(
    (f) => !f.latency && t >= f.at && t < f.at + FAULT_MS && touches(v, f.service),
  );
  if (other) return ['other_fault', other];
  // The latest injection it follows by at most eight minutes.
  const after = faults.filter((f) => t >= f.at && t < f.at + AFTER_MS).at(-1);
  if (after) return ['aftermath', after];
  const before = faults.find((f) => t >= f.at - BEFORE_MS && t < f.at);
  if (before) return ['before', before];
  return ['none', null];
}

/**
 * Per incident of `ids`: its spans' durations against their operation's median (the history's
 * spans of the same service and operation, or the replayed ones when the history has none).
 */
function slowerByIncident(
  run: ReplayRun,
  ids: ReadonlySet<string>,
): Map<string, { median: number; max: number }> {
  const t = run.stream.table;
  const spans = new Map<string, number[]>();
  for (const [i, id] of run.spanIncident ?? []) {
    if (!ids.has(id)) continue;
    let list = spans.get(id);
    if (!list) spans.set(id, (list = []));
    list.push(i);
  }
  const keys = new Set([...spans.values()].flat().map((i) => keyText(t, t.key[i]!)));
  const medians = operationMedians(run.history?.table, keys);
  const fallback = operationMedians(t, new Set([...keys].filter((k) => !medians.has(k))));
  const out = new Map<string, { median: number; max: number }>();
  for (const [id, list] of spans) {
    const ratios = list
      .map((i) => {
        const k = keyText(t, t.key[i]!);
        const m = medians.get(k) ?? fallback.get(k);
        return m === undefined || m <= 0 ? null : t.durationMs(i) / m;
      })
      .filter((r): r is number => r !== null)
      .sort((a, b) => a - b);
    if (ratios.length === 0) continue;
    out.set(id, { median: ratios[Math.floor((ratios.length - 1) / 2)]!, max: ratios.at(-1)! });
  }
  return out;
}

function keyText(t: SpanTable, key: number): string {
  const k = t.keys[key]!;
  return `${k.service}\n${k.name}\n${k.kind}`;
}

/** The median duration (ms) of each operation of `keys` in the table (the lower middle one). */
function operationMedians(
  t: SpanTable | undefined,
  keys: ReadonlySet<string>,
): Map<string, number> {
  const out = new Map<string, number>();
  if (!t || keys.size === 0) return out;
  const wanted = Int32Array.from(t.keys, (_, k) => (keys.has(keyText(t, k)) ? 1 : 0));
  const durations = new Map<number, number[]>();
  for (let i = 0; i < t.count; i++) {
    const k = t.key[i]!;
    if (wanted[k] === 0) continue;
    let list = durations.get(k);
    if (!list) durations.set(k, (list = []));
    list.push(t.durationMs(i));
  }
  for (const [k, list] of durations) {
    list.sort((a, b) => a - b);
    out.set(keyText(t, k), list[Math.floor((list.length - 1) / 2)]!);
  }
  return out;
}
