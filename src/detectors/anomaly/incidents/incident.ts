/**
 * One incident: the spans of one fault, across operations and services, with where the time was
 * lost. Every collection is bounded: what does not fit is counted in the last entry (`other`).
 */

/** Where the time was lost: a service's operation, or a call edge to `peerService`. */
export interface Origin {
  readonly service: string;
  readonly operation: string;
  readonly peerService: string | null;
}

export interface IncidentView {
  readonly id: string;
  readonly status: 'open' | 'resolved';
  /** 1 (SEV1) .. 5: the worst severity of its spans. */
  readonly severity: number;
  readonly openedAt: number;
  readonly updatedAt: number;
  readonly resolvedAt: number | null;
  /** What opened it: `slow_operation`, `slow_span`, or the reason given to `open()`. */
  readonly reason: string;
  readonly origin: Origin | null;
  readonly services: readonly { readonly service: string; readonly count: number }[];
  readonly operations: readonly {
    readonly service: string;
    readonly operation: string;
    readonly count: number;
  }[];
  readonly timeline: readonly { readonly at: number; readonly severity: number }[];
  readonly samples: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly summary: { readonly text: string; readonly anomalyId: string } | null;
  /** Spans that joined it. */
  readonly spans: number;
  /** Why it resolved (null while open; absent in rows written before it existed). */
  readonly resolution?: Resolution | null;
  /** Held open past its quiet period (null when not; absent in rows written before it existed). */
  readonly held?: HeldView | null;
}

/**
 * An open incident held past its quiet period while its origin's operation is still slower
 * (`hold_while_slower`): `since`, the last tag that kept it open (its quiet period counts from
 * there); `readings`, its origin's spans read since; `slowerBy`, their geometric mean ratio to
 * their slots' medians (null before the first reading).
 */
export interface HeldView {
  readonly since: number;
  readonly readings: number;
  readonly slowerBy: number | null;
}

/**
 * Why an incident resolved: `quiet`, nothing tagged for its quiet period; or, held open past it
 * while its origin's operation stayed slower (`hold_while_slower`), `recovered` (its level came
 * back under the bar), `spans_stopped` (no span of it for its quiet period) or `max_hold`.
 */
export type Resolution = 'quiet' | 'recovered' | 'spans_stopped' | 'max_hold';

const MAX_OPERATIONS = 50;
const MAX_SERVICES = 50;
const MAX_ORIGINS = 32;
const MAX_SAMPLES = 5;
const OTHER = 'other';

interface OriginWeight {
  readonly origin: Origin;
  weight: number;
}

export class Incident {
  severity: number;
  updatedAt: number;
  /** Clock time of the last span that joined (the quiet period counts from here). */
  lastSeen: number;
  /**
   * Clock time of the last span of its origin's operation that kept it open: a grown quiet period
   * (`quiet_growth`) counts from here, so spans elsewhere that join it do not make it grow.
   */
  originSeen: number;
  resolvedAt: number | null = null;
  resolution: Resolution | null = null;
  /** Traces blame its origin in full until then (`origin_window`; opening, or getting worse). */
  blameUntil = Number.POSITIVE_INFINITY;
  /** End time (span clock, ms) of the latest tagged span that kept it open (`hold_while_slower`). */
  tagEnd = 0;
  /**
   * Past its quiet period (`hold_while_slower`): its origin's level read once per span since
   * `since` (its `lastSeen` then), the sum of their logs, and the end of the last span read.
   */
  hold: { since: number; readings: number; sumLog: number; lastSpanAt: number } | null = null;
  spans = 0;
  summary: { text: string; anomalyId: string } | null = null;
  readonly timeline: { at: number; severity: number }[];
  readonly services = new Map<string, number>();
  readonly operations = new Map<string, { service: string; operation: string; count: number }>();
  readonly samples: { traceId: string; spanId: string; severity: number }[] = [];
  private readonly origins = new Map<string, OriginWeight>();
  /** Origins that are call edges (`peerService` set): none, and a call site has no edge to look for. */
  private edges = 0;
  /** The most blamed origin (`origin()`), until `blame` changes the evidence; undefined: not known. */
  private best: Origin | null | undefined = null;

  constructor(
    readonly id: string,
    readonly openedAt: number,
    severity: number,
    readonly reason: string,
  ) {
    this.severity = severity;
    this.updatedAt = openedAt;
    this.lastSeen = openedAt;
    this.originSeen = openedAt;
    this.timeline = [{ at: openedAt, severity }];
  }

  get open(): boolean {
    return this.resolvedAt === null;
  }

  /**
   * Counts a span of `service` / `operation` (`key`: `service \0 operation`); true when the
   * severity got worse. `keepsOpen`: it counts against the quiet period
   * (`incidents.keep_open_severity`).
   */
  add(
    key: string,
    service: string,
    operation: string,
    severity: number,
    now: number,
    keepsOpen = true,
  ): boolean {
    this.spans++;
    if (keepsOpen) this.lastSeen = now;
    this.updatedAt = now;
    bump(
      this.services,
      this.services.has(service) || this.services.size < MAX_SERVICES ? service : OTHER,
    );
    const op = this.operations.get(key);
    if (op) op.count++;
    else if (this.operations.size < MAX_OPERATIONS) {
      this.operations.set(key, { service, operation, count: 1 });
    } else {
      const other = this.operations.get(OTHER) ?? { service: OTHER, operation: OTHER, count: 0 };
      other.count++;
      this.operations.set(OTHER, other);
    }
    if (severity >= this.severity) return false;
    this.severity = severity;
    this.timeline.push({ at: now, severity });
    return true;
  }

  /** Keeps a few traces, the most severe first seen. */
  sample(traceId: string, spanId: string, severity: number): void {
    if (this.samples.some((s) => s.traceId === traceId)) return;
    if (this.samples.length < MAX_SAMPLES) {
      this.samples.push({ traceId, spanId, severity });
      return;
    }
    let worst = 0;
    for (let k = 1; k < this.samples.length; k++) {
      if (this.samples[k]!.severity > this.samples[worst]!.severity) worst = k;
    }
    if (severity < this.samples[worst]!.severity)
      this.samples[worst] = { traceId, spanId, severity };
  }

  /**
   * Adds evidence (ms of own time lost) that the fault starts at `origin`. A call site seen
   * without its callee at hand (`peerService` null) is the same call site as with it: its
   * evidence goes to the call edge of that service and operation, once one is known.
   */
  blame(origin: Origin, weight: number): void {
    this.best = undefined;
    const site = `${origin.service}\u0000${origin.operation}\u0000`;
    if (origin.peerService === null) {
      const edge = this.heaviestEdge(site);
      if (edge) {
        edge.weight += weight;
        return;
      }
    } else {
      const unknown = this.origins.get(site);
      if (unknown) {
        this.origins.delete(site);
        weight += unknown.weight;
      }
    }
    const key = `${site}${origin.peerService ?? ''}`;
    const o = this.origins.get(key);
    if (o) {
      o.weight += weight;
      return;
    }
    if (this.origins.size >= MAX_ORIGINS) {
      // The least blamed makes room: an origin that keeps being blamed comes back.
      let least: string | undefined;
      let min = Number.POSITIVE_INFINITY;
      for (const [k, v] of this.origins) {
        if (v.weight < min) {
          min = v.weight;
          least = k;
        }
      }
      if (least === undefined || min > weight) return;
      if (this.origins.get(least)!.origin.peerService !== null) this.edges--;
      this.origins.delete(least);
    }
    if (origin.peerService !== null) this.edges++;
    this.origins.set(key, { origin, weight });
  }

  /** The most blamed call edge of a call site (`service \0 operation \0`). */
  private heaviestEdge(site: string): OriginWeight | undefined {
    if (this.edges === 0) return undefined;
    let best: OriginWeight | undefined;
    for (const [k, v] of this.origins) {
      if (k.length === site.length || !k.startsWith(site)) continue;
      if (!best || v.weight > best.weight) best = v;
    }
    return best;
  }

  /** The origin with the most evidence (the first of those with as much). */
  origin(): Origin | null {
    if (this.best !== undefined) return this.best;
    let best: OriginWeight | undefined;
    for (const o of this.origins.values()) if (!best || o.weight > best.weight) best = o;
    this.best = best?.origin ?? null;
    return this.best;
  }

  /** The evidence per origin (for the store). */
  originWeights(): { origin: Origin; weight: number }[] {
    return [...this.origins.values()].map((o) => ({ origin: o.origin, weight: o.weight }));
  }

  resolve(now: number, resolution: Resolution = 'quiet'): void {
    this.resolvedAt = now;
    this.updatedAt = now;
    this.resolution = resolution;
  }

  /** Open again (the same fault came back soon after it resolved). */
  reopen(now: number): void {
    this.resolvedAt = null;
    this.resolution = null;
    this.updatedAt = now;
    this.lastSeen = now;
    this.originSeen = now;
  }

  /** Whether it is being held past its quiet period (`hold` belongs to its last tag still). */
  get held(): HeldView | null {
    const h = this.hold;
    if (!this.open || h === null || h.since !== this.lastSeen) return null;
    const slowerBy = h.readings > 0 ? Math.exp(h.sumLog / h.readings) : null;
    return { since: h.since, readings: h.readings, slowerBy };
  }

  view(): IncidentView {
    const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
    return {
      id: this.id,
      status: this.open ? 'open' : 'resolved',
      severity: this.severity,
      openedAt: this.openedAt,
      updatedAt: this.updatedAt,
      resolvedAt: this.resolvedAt,
      reason: this.reason,
      origin: this.origin(),
      services: [...this.services].map(([service, count]) => ({ service, count })).sort(byCount),
      operations: [...this.operations.values()].map((o) => ({ ...o })).sort(byCount),
      timeline: this.timeline.map((t) => ({ ...t })),
      samples: this.samples.map((s) => ({ traceId: s.traceId, spanId: s.spanId })),
      summary: this.summary,
      spans: this.spans,
      resolution: this.resolution,
      held: this.held,
    };
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/** What the store keeps of an incident: enough to carry on after a restart. */
export interface IncidentState extends IncidentView {
  readonly lastSeen: number;
  /** Absent in rows written before it existed: `lastSeen`. */
  readonly originSeen?: number;
  /** Absent in rows written before they existed: 0 and none. */
  readonly tagEnd?: number;
  /** Absent (or null: no end) in rows written before it existed. */
  readonly blameUntil?: number | null;
  readonly hold?: {
    readonly since: number;
    readonly readings: number;
    readonly sumLog: number;
    readonly lastSpanAt: number;
  } | null;
  readonly origins: readonly { readonly origin: Origin; readonly weight: number }[];
}

export function stateOf(i: Incident): IncidentState {
  return {
    ...i.view(),
    lastSeen: i.lastSeen,
    originSeen: i.originSeen,
    tagEnd: i.tagEnd,
    blameUntil: Number.isFinite(i.blameUntil) ? i.blameUntil : null,
    hold: i.hold && { ...i.hold },
    origins: i.originWeights(),
  };
}

/** An incident as it was stored. */
export function restoreIncident(s: IncidentState): Incident {
  const i = new Incident(s.id, s.openedAt, s.timeline[0]?.severity ?? s.severity, s.reason);
  i.severity = s.severity;
  i.updatedAt = s.updatedAt;
  i.lastSeen = s.lastSeen;
  i.originSeen = s.originSeen ?? s.lastSeen;
  i.tagEnd = s.tagEnd ?? 0;
  i.blameUntil = s.blameUntil ?? Number.POSITIVE_INFINITY;
  i.hold = s.hold ? { ...s.hold } : null;
  i.resolvedAt = s.resolvedAt;
  i.resolution = s.resolution ?? (s.resolvedAt === null ? null : 'quiet');
  i.spans = s.spans;
  i.summary = s.summary;
  i.timeline.splice(0, i.timeline.length, ...s.timeline.map((t) => ({ ...t })));
  for (const x of s.services) i.services.set(x.service, x.count);
  for (const o of s.operations) {
    i.operations.set(
      o.service === 'other' && o.operation === 'other'
        ? 'other'
        : `${o.service}\u0000${o.operation}`,
      { ...o },
    );
  }
  for (const x of s.samples) i.samples.push({ ...x, severity: s.severity });
  for (const o of s.origins) i.blame(o.origin, o.weight);
  return i;
}
