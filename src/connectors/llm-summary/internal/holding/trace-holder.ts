import { hexAt } from '../../../../otlp/trace-index.js';
import {
  anomalyOf,
  mayHoldAnomalies,
  spansWithAnomalyKey,
} from '../../../../analysis/anomaly-attributes.js';
import { decodeSpan } from '../../../../otlp/span-decode.js';
import { traceIdOffset, walkSpans } from '../../../../otlp/span-walk.js';

/** A span copied out of a request, with its service (the resource's `service.name`). */
export interface HeldSpan {
  readonly bytes: Uint8Array;
  readonly service: string;
}

/** A trace with an anomaly at or above `min_severity`, and the spans of it seen so far. */
export interface HeldTrace {
  readonly traceId: string;
  readonly openedAt: number;
  /** When the trace is handed on for summarizing: `openedAt + trace_window`. */
  readonly deadline: number;
  readonly spans: HeldSpan[];
  /** Worst severity (1..5) of its tagged spans at or above `min_severity`. */
  severity: number;
}

export interface HolderLimits {
  readonly windowMs: number;
  /** Severities 1..minSeverity open a trace. */
  readonly minSeverity: number;
  readonly maxTraces: number;
  readonly maxSpansPerTrace: number;
  readonly maxBytes: number;
}

/** A tagged span at or above `min_severity`, as it arrived. */
export interface SeenAnomaly {
  readonly traceId: string;
  readonly service: string;
  readonly operation: string;
  readonly severity: number;
  /** Arrival time (the clock's). */
  readonly at: number;
}

/** Why something was not held (counted, never logged per span). */
export type HoldDrop = 'traces_limit' | 'spans_limit' | 'bytes_limit' | 'late';

// Bookkeeping per held span beyond its bytes (object, array slot, strings), for the byte bound.
const SPAN_OVERHEAD = 96;

/**
 * Holds the spans of anomalous traces for `trace_window` after their first anomaly arrives,
 * within bounds on traces, spans per trace and bytes; what does not fit is counted and dropped.
 * Copies the few spans it keeps (never the whole request), so the pipeline's batches are never
 * retained. A request without a tagged span costs one byte search while nothing is held.
 *
 * Tagged spans below `min_severity` are kept a while too (within the same bounds): a downstream
 * span tagged SEV4 often arrives before its caller's SEV2 span, and it is the likely origin.
 */
export class TraceHolder {
  private readonly traces = new Map<string, HeldTrace>();
  /** Low 32 bits of the held trace ids: a cheap first check per span before any string is made. */
  private readonly probes = new Map<number, number>();
  /** Recently summarized traces (bounded), so a late anomaly does not open them again. */
  private readonly closed = new Set<string>();
  /** Tagged spans below min_severity, by trace, oldest first. */
  private readonly early = new Map<string, { at: number; spans: HeldSpan[] }>();
  private heldBytes = 0;
  readonly dropped: Record<HoldDrop, number> = {
    traces_limit: 0,
    spans_limit: 0,
    bytes_limit: 0,
    late: 0,
  };

  constructor(
    private readonly limits: HolderLimits,
    /** Told of every tagged span at or above `min_severity` (for "concurrent anomalies"). */
    private readonly onAnomaly: (a: SeenAnomaly) => void = () => undefined,
  ) {}

  get size(): number {
    return this.traces.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Looks at one (validated) trace request: opens traces for its anomalies, keeps their spans. */
  add(bytes: Uint8Array, now: number): void {
    const tagged = mayHoldAnomalies(bytes);
    if (!tagged && this.traces.size === 0) return;
    const w = walkSpans(bytes);
    if (tagged) {
      for (const i of spansWithAnomalyKey(bytes, w.starts, w.ends)) {
        const service = w.service(w.resource[i]!);
        const span = decodeSpan(bytes.subarray(w.starts[i]!, w.ends[i]!), service);
        const anomaly = anomalyOf(span);
        if (!anomaly || span.traceId.length !== 32) continue;
        const traceId = span.traceId;
        if (anomaly.severity <= this.limits.minSeverity) {
          const a = { traceId, service, operation: span.name, severity: anomaly.severity, at: now };
          this.onAnomaly(a);
          this.open(traceId, anomaly.severity, now);
        } else if (!this.traces.has(traceId)) {
          this.keepEarly(traceId, bytes, w.starts[i]!, w.ends[i]!, service, now);
        }
      }
    }
    if (this.traces.size === 0) return;
    for (let i = 0; i < w.starts.length; i++) {
      const at = traceIdOffset(bytes, w.starts[i]!, w.ends[i]!);
      if (at < 0 || !this.probes.has(probeAt(bytes, at))) continue;
      const trace = this.traces.get(hexAt(bytes, at, 16));
      if (trace) this.keep(trace.spans, bytes, w.starts[i]!, w.ends[i]!, w.service(w.resource[i]!));
    }
  }

  /** Removes and returns the traces whose window has passed, oldest first. */
  due(now: number): HeldTrace[] {
    const out: HeldTrace[] = [];
    for (const t of this.traces.values()) {
      if (t.deadline > now) break; // opened in order, with one window: deadlines grow
      out.push(t);
    }
    for (const t of out) this.close(t);
    for (const [traceId, e] of this.early) {
      if (e.at + this.limits.windowMs > now) break;
      this.forgetEarly(traceId);
    }
    return out;
  }

  /** Removes and returns every held trace (shutdown). */
  drain(): HeldTrace[] {
    const out = [...this.traces.values()];
    for (const t of out) this.close(t);
    for (const traceId of [...this.early.keys()]) this.forgetEarly(traceId);
    return out;
  }

  private open(traceId: string, severity: number, now: number): void {
    const held = this.traces.get(traceId);
    if (held) {
      held.severity = Math.min(held.severity, severity);
      return;
    }
    if (this.closed.has(traceId)) {
      this.dropped.late++;
      return;
    }
    if (this.traces.size >= this.limits.maxTraces) {
      this.dropped.traces_limit++;
      return;
    }
    const trace: HeldTrace = {
      traceId,
      openedAt: now,
      deadline: now + this.limits.windowMs,
      spans: [],
      severity,
    };
    this.traces.set(traceId, trace);
    const probe = probeOf(traceId);
    this.probes.set(probe, (this.probes.get(probe) ?? 0) + 1);
    const early = this.early.get(traceId);
    if (early) {
      // Already counted in heldBytes: they move from the early map to the trace.
      trace.spans.push(...early.spans);
      this.early.delete(traceId);
    }
  }

  private close(trace: HeldTrace): void {
    this.traces.delete(trace.traceId);
    const probe = probeOf(trace.traceId);
    const n = this.probes.get(probe)! - 1;
    if (n === 0) this.probes.delete(probe);
    else this.probes.set(probe, n);
    for (const s of trace.spans) this.heldBytes -= s.bytes.length + SPAN_OVERHEAD;
    this.closed.add(trace.traceId);
    if (this.closed.size > this.limits.maxTraces * 4) {
      this.closed.delete(this.closed.values().next().value!);
    }
  }

  private keepEarly(
    traceId: string,
    bytes: Uint8Array,
    start: number,
    end: number,
    service: string,
    now: number,
  ): void {
    let e = this.early.get(traceId);
    if (!e) {
      if (this.early.size >= this.limits.maxTraces) return; // a hint only: not counted as a loss
      this.early.set(traceId, (e = { at: now, spans: [] }));
    }
    this.keep(e.spans, bytes, start, end, service);
  }

  private forgetEarly(traceId: string): void {
    const e = this.early.get(traceId);
    if (!e) return;
    for (const s of e.spans) this.heldBytes -= s.bytes.length + SPAN_OVERHEAD;
    this.early.delete(traceId);
  }

  private keep(list: HeldSpan[], bytes: Uint8Array, start: number, end: number, service: string) {
    if (list.length >= this.limits.maxSpansPerTrace) {
      this.dropped.spans_limit++;
      return;
    }
    const size = end - start + SPAN_OVERHEAD;
    if (this.heldBytes + size > this.limits.maxBytes) {
      this.dropped.bytes_limit++;
      return;
    }
    this.heldBytes += size;
    // A copy (Buffer#slice would be a view keeping the whole request alive).
    const copy = new Uint8Array(end - start);
    copy.set(bytes.subarray(start, end));
    list.push({ bytes: copy, service });
  }
}

function probeAt(b: Uint8Array, at: number): number {
  return (b[at + 12]! | (b[at + 13]! << 8) | (b[at + 14]! << 16) | (b[at + 15]! << 24)) >>> 0;
}

function probeOf(traceIdHex: string): number {
  const b = Buffer.from(traceIdHex.slice(24, 32), 'hex');
  return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
}
