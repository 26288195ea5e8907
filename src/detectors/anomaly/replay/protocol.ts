import type { Fault } from './faults.js';
import type { SpanTable } from './span-table.js';

/**
 * The ground truth of a replay against a fault list, as the datasets' README defines it and as
 * `src/detectors/anomaly/README.md` ("Replay") reads it:
 *
 * - positive: during the four minutes of a latency fault, the injected pod's spans
 *   (`cpu_contention`) or its callers' spans calling into it (`network_delay`);
 * - left out: every span from one minute before to eight minutes after an injection other than
 *   the span's own (its own: the last one injected at most a minute after it started; the trace
 *   files are cut around each injection); and, from its own injection on, the spans the fault may
 *   have slowed that the protocol does not call positive: the injected pod's other spans (its own
 *   spans in a network delay, all of them in the code-level faults) and the spans up the trace
 *   from any span of the pod (its callers, their callers: a CPU fault's callers wait for it);
 * - negative: the rest.
 */
export const FAULT_MS = 4 * 60_000;
export const BEFORE_MS = 60_000;
export const AFTER_MS = 8 * 60_000;

export const NEGATIVE = 0;
export const POSITIVE = 1;
export const LEFT_OUT = 2;

export interface Labels {
  /** Per span: NEGATIVE, POSITIVE or LEFT_OUT. */
  readonly label: Uint8Array;
  /** Per span: the fault it is a positive of, -1 for none. */
  readonly fault: Int32Array;
  /** Spans left out near another injection, on the injected pod, or up the trace from it. */
  readonly leftOut: { readonly near: number; readonly pod: number; readonly callers: number };
}

export function labelSpans(t: SpanTable, faults: readonly Fault[]): Labels {
  const n = t.count;
  const label = new Uint8Array(n);
  const fault = new Int32Array(n).fill(-1);
  const leftOut = { near: 0, pod: 0, callers: 0 };
  const start = Float64Array.from({ length: n }, (_, i) => t.startMs(i));
  const onPod = podMatcher(t, faults);
  const own = ownInjection(start, faults);
  // Near an injection other than its own.
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < faults.length; j++) {
      if (j === own[i]) continue;
      const at = faults[j]!.at;
      if (start[i]! >= at - BEFORE_MS && start[i]! < at + AFTER_MS) {
        label[i] = LEFT_OUT;
        leftOut.near++;
        break;
      }
    }
  }
  const byKey = new Map<number, number>();
  for (let i = 0; i < n; i++) byKey.set(t.spanKey(i), i);
  const parentOf = (i: number) => {
    const p = t.parentKey(i);
    return p === 0 ? undefined : byKey.get(p);
  };
  const positive = (i: number, j: number) => {
    if (label[i] === LEFT_OUT) leftOut.near--;
    label[i] = POSITIVE;
    fault[i] = j;
  };
  faults.forEach((f, j) => {
    if (!f.latency) return;
    for (let i = 0; i < n; i++) {
      if (!onPod(i, j)) continue;
      if (f.type === 'cpu_contention') {
        if (start[i]! >= f.at && start[i]! < f.at + FAULT_MS) positive(i, j);
        continue;
      }
      const p = parentOf(i);
      if (p !== undefined && !onPod(p, j) && start[p]! >= f.at && start[p]! < f.at + FAULT_MS) {
        positive(p, j);
      }
    }
  });
  // What a fault may have slowed that is not its positive: its pod, and up the trace from it.
  const leave = (i: number, reason: 'pod' | 'callers') => {
    if (label[i] !== NEGATIVE) return;
    label[i] = LEFT_OUT;
    leftOut[reason]++;
  };
  faults.forEach((f, j) => {
    for (let i = 0; i < n; i++) {
      if (own[i] !== j || start[i]! < f.at || start[i]! >= f.at + AFTER_MS || !onPod(i, j))
        continue;
      leave(i, 'pod');
      for (
        let p = parentOf(i), depth = 0;
        p !== undefined && depth < 64;
        p = parentOf(p), depth++
      ) {
        if (!onPod(p, j)) leave(p, 'callers');
      }
    }
  });
  return { label, fault, leftOut };
}

/** Per span, the index of the last fault injected at most BEFORE_MS after it started (-1: none). */
function ownInjection(start: Float64Array, faults: readonly Fault[]): Int32Array {
  return Int32Array.from(start, (s) => {
    let own = -1;
    for (let j = 0; j < faults.length && faults[j]!.at <= s + BEFORE_MS; j++) own = j;
    return own;
  });
}

/**
 * Whether span i runs on fault j's pod: its `k8s.pod.name`, or, for spans that carry no pod
 * name, its service (the pod name without its two last dash-separated parts).
 */
function podMatcher(t: SpanTable, faults: readonly Fault[]): (i: number, j: number) => boolean {
  const match = t.resources.map((r) =>
    faults.map((f) => r.pod === f.pod || (r.pod === r.service && r.service === f.service)),
  );
  return (i, j) => match[t.resource[i]!]![j]!;
}
