import { createHash } from 'node:crypto';
import type { TraceIndex } from '../../../otlp/trace-index.js';
import { ChildMemory } from './child-memory.js';
import type { IncidentsConfig } from './config.js';
import { Incident, stateOf, restoreIncident, type IncidentView, type Origin } from './incident.js';
import type { IncidentMetrics } from './incident-metrics.js';
import type { IncidentQuery, IncidentStore } from './incident-store.js';
import { groupByTrace, type TaggedSpan, type TraceGroup } from './trace-groups.js';

export type IncidentChangeType = 'opened' | 'worse' | 'updated' | 'summary' | 'resolved';

export interface IncidentChange {
  readonly type: IncidentChangeType;
  readonly incident: IncidentView;
}

export type IncidentListener = (change: IncidentChange) => void;

/** What opens an incident without a span (a drop of traffic, an error burst: issue 14). */
export interface OpenRequest {
  readonly service: string;
  readonly operation: string;
  /** Why, e.g. `traffic_drop`: kept as the incident's `reason`. */
  readonly reason: string;
  /** 1 (SEV1) .. 5. */
  readonly severity: number;
}

/** Resolved incidents kept in memory after they are written, for the API and the stream. */
const MAX_RECENT = 100;
/** Resolved incidents held while the database cannot be written. */
const MAX_UNWRITTEN = 1_000;
/** `updated` events of an incident at most this often (opened, worse and resolved at once). */
const UPDATE_EVERY_MS = 1_000;

/**
 * A slowdown is sustained, as an operation's level would say, when spans of this many traces are
 * tagged SEV3 or worse on one operation within `SUSTAINED_MS` (a key too young for its level to
 * judge, or judged against another hour's baseline, still opens an incident when it keeps being
 * slow).
 */
const SUSTAINED_TAGS = 5;
const SUSTAINED_MS = 60_000;
/**
 * A SEV1 span opens an incident once it is backed up: another trace's span of its operation was
 * tagged SEV3 or worse within `SUSTAINED_MS`. One rare slow request (a tail that every heavy-tailed
 * operation shows now and then) is tagged, but pages no one; a fault repeats.
 */
const BACKED_TAGS = 2;
/** Operations whose recent SEV3-or-worse tags are counted at once. */
const MAX_COUNTED_KEYS = 10_000;
/** How long a tagged span waits for its parent to arrive (child-memory.ts). */
const CHILD_MEMORY_MS = 60_000;

/**
 * The incident engine of one `anomaly` processor. The processor hands it the spans it tags in a
 * request, synchronously, before the request is forwarded (`assign`); it answers with each span's
 * incident id, which the processor writes as `anomaly.incident_id`. All in memory, bounded; the
 * processor's flush writes what changed to SQLite in its own transaction (`write`).
 *
 * A request's tagged spans are grouped by trace (trace-groups.ts), each group with its origin
 * (where its time was lost); `incidentOf` finds the group's incident or opens one. The origin of
 * an incident is the origin its traces blame most (ms of own time lost).
 */
export class IncidentEngine {
  private readonly open = new Map<string, Incident>();
  /** `service \0 operation` of the spans of open incidents. */
  private readonly byKey = new Map<string, Incident>();
  /**
   * Where open incidents lose their time: their origin's service, or for a call edge the service
   * called (its peer).
   */
  private readonly byService = new Map<string, Incident>();
  /** `service \0 operation` of the origins open incidents were blamed on. */
  private readonly bySite = new Map<string, Incident>();
  /** Recent traces and their incident, oldest first (bounded by max_traces). */
  private readonly byTrace = new Map<string, Incident>();
  /** Resolved incidents not yet written, then the last few, for reads. */
  private readonly recent = new Map<string, Incident>();
  private readonly dirty = new Set<Incident>();
  private readonly updated = new Set<Incident>();
  private readonly listeners = new Set<IncidentListener>();
  private lastUpdates = 0;
  /** Per operation: traces with SEV3-or-worse tags since `since` (the last one's id). */
  private readonly recentSevere = new Map<
    string,
    { since: number; count: number; trace: string }
  >();
  /** Tagged spans whose parent has not come yet (bounded like the traces). */
  private readonly children: ChildMemory;

  constructor(
    readonly config: IncidentsConfig,
    private readonly metrics: IncidentMetrics,
  ) {
    this.children = new ChildMemory(config.max_traces, CHILD_MEMORY_MS);
  }

  /**
   * The incident of each tagged span (`tagged[k]`), or undefined when it belongs to none. Called
   * on the traffic path: no I/O; listeners hear of openings and worse severities at once.
   */
  assign(index: TraceIndex, tagged: readonly TaggedSpan[], now: number): (string | undefined)[] {
    const ids = new Array<string | undefined>(tagged.length);
    if (tagged.length === 0) return ids;
    const at = new Map<TaggedSpan, number>();
    for (let k = 0; k < tagged.length; k++) at.set(tagged[k]!, k);
    this.metrics.tagged(tagged);
    const groups = groupByTrace(index, tagged, this.children, now);
    // Counted first, so that five slow traces in one request back each other up.
    for (const g of groups) for (const t of g.members) this.countSevere(t.record, now);
    for (const g of groups) {
      const found = this.incidentOf(g, now);
      if (!found) continue;
      this.join(found.incident, g, now, found.blamed);
      for (const t of g.members) ids[at.get(t)!] = found.incident.id;
    }
    return ids;
  }

  /**
   * Opens an incident without a span (or joins the open one of that operation or service):
   * for detectors that see what no span shows (a drop of traffic). Returns its id, or undefined
   * when max_open incidents are open.
   */
  openIncident(req: OpenRequest, now: number): string | undefined {
    const key = keyOf(req.service, req.operation);
    let incident = this.byKey.get(key) ?? this.byService.get(req.service);
    if (!incident) {
      const seed = createHash('sha256')
        .update(`${req.service}\u0000${req.operation}\u0000${req.reason}`)
        .digest('hex');
      incident = this.create(req.severity, req.reason, now, seed);
      if (!incident) return undefined;
    }
    const origin: Origin = { service: req.service, operation: req.operation, peerService: null };
    incident.blame(origin, 1);
    this.addSpan(incident, req.service, req.operation, req.severity, now);
    this.index(incident, origin);
    return incident.id;
  }

  /** Resolves incidents quiet for `quiet_period`, sends due `updated` events, sets the gauges. */
  tick(now: number): void {
    this.children.expire(now);
    for (const [k, c] of this.recentSevere) {
      if (now - c.since > SUSTAINED_MS) this.recentSevere.delete(k);
    }
    for (const i of [...this.open.values()]) {
      if (now - i.lastSeen >= this.config.quiet_period) this.resolve(i, now);
    }
    if (now - this.lastUpdates >= UPDATE_EVERY_MS && this.updated.size > 0) {
      this.lastUpdates = now;
      const list = [...this.updated];
      this.updated.clear();
      for (const i of list) this.emit('updated', i);
    }
    this.metrics.open([...this.open.values()]);
  }

  /** A summary of an anomaly (`traceId-spanId`) becomes its incident's, when it has none yet. */
  attachSummary(anomalyIds: readonly string[], text: string): void {
    for (const id of anomalyIds) {
      const incident = this.byTrace.get(id.split('-')[0]!);
      if (!incident || incident.summary) continue;
      incident.summary = { text, anomalyId: id };
      this.dirty.add(incident);
      this.emit('summary', incident);
      return;
    }
  }

  subscribe(listener: IncidentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  openIncidents(): IncidentView[] {
    return [...this.open.values()].map((i) => i.view());
  }

  /** Incidents matching `q`, newest first: those in memory over those stored. */
  list(q: IncidentQuery, store: IncidentStore | undefined): IncidentView[] {
    const out = new Map<string, IncidentView>();
    for (const s of store?.query(q) ?? []) out.set(s.id, s);
    for (const i of [...this.open.values(), ...this.recent.values()]) {
      const v = i.view();
      if (matches(v, q)) out.set(v.id, v);
      else out.delete(v.id);
    }
    return [...out.values()].sort((a, b) => b.openedAt - a.openedAt).slice(0, q.limit);
  }

  get(id: string, store: IncidentStore | undefined): IncidentView | undefined {
    const i = this.open.get(id) ?? this.recent.get(id);
    return i ? i.view() : store?.get(id);
  }

  /** Continues the incidents left open at the last shutdown. */
  load(store: IncidentStore): void {
    for (const s of store.loadOpen()) {
      if (this.open.has(s.id) || this.open.size >= this.config.max_open) continue;
      const i = restoreIncident(s);
      this.open.set(i.id, i);
      const origin = i.origin();
      if (origin) this.index(i, origin);
      for (const o of i.originWeights())
        this.bySite.set(keyOf(o.origin.service, o.origin.operation), i);
      for (const o of i.operations.values()) this.byKey.set(keyOf(o.service, o.operation), i);
    }
  }

  /** Writes what changed (in the caller's transaction) and applies retention. */
  write(store: IncidentStore, now: number): void {
    const list = [...this.dirty];
    if (list.length > 0) store.upsert(list.map(stateOf));
    store.trim(now - this.config.retention, this.config.max_stored);
    this.dirty.clear();
    // Resolved and written: only the last few stay in memory.
    for (const id of this.recent.keys()) {
      if (this.recent.size <= MAX_RECENT) break;
      this.recent.delete(id);
    }
  }

  /**
   * The incident a trace group belongs to, and whether its origin counts towards that incident's
   * (`blamed`): its trace's incident; else the open incident whose origin is where this trace lost
   * its time (the same service and operation, or the same service: for a call edge, the service
   * called); else a new one when its origin span opens one (`opens`); else, without a say in its
   * origin, the incident one of its operations is in; else a new one when another of its spans
   * opens one. So a fault whose origin differs gets an incident of its own instead of joining the
   * one open on its callers' spans.
   */
  private incidentOf(
    g: TraceGroup,
    now: number,
  ): { incident: Incident; blamed: boolean } | undefined {
    const seen = this.byTrace.get(g.traceId);
    if (seen?.open) return { incident: seen, blamed: true };
    const o = g.origin.record;
    const found =
      this.bySite.get(keyOf(o.service, o.operation)) ??
      this.byService.get(g.peerService ?? o.service);
    if (found) return { incident: found, blamed: true };
    // Where the time was lost opens a new incident when it is alarming itself.
    if (this.opens(g.origin.record, now)) return this.opened(g.origin, now);
    const joined = firstOf(g.members, (t) =>
      this.byKey.get(keyOf(t.record.service, t.record.operation)),
    );
    if (joined) return { incident: joined, blamed: false };
    let worst: TaggedSpan | undefined;
    for (const t of g.members) {
      const opens = this.opens(t.record, now);
      if (opens && (!worst || t.record.severity < worst.record.severity)) worst = t;
    }
    return worst ? this.opened(worst, now) : undefined;
  }

  private opened(t: TaggedSpan, now: number): { incident: Incident; blamed: boolean } | undefined {
    const created = this.create(t.record.severity, t.record.reason, now, t.record.traceId);
    return created ? { incident: created, blamed: true } : undefined;
  }

  /**
   * Whether a tagged span opens an incident: an operation's slowdown at SEV3 or worse (its level,
   * or SEV3-or-worse tags in `SUSTAINED_TAGS` traces within a minute), or a SEV1 span backed up
   * by another trace's SEV3-or-worse tag of its operation within the minute before (or in the
   * same request: counted first).
   */
  private opens(
    r: { traceId: string; service: string; operation: string; severity: number; reason: string },
    now: number,
  ): boolean {
    if (r.reason === 'slow_operation' && r.severity <= 3) return true;
    if (r.severity > 3) return false;
    const c = this.recentSevere.get(keyOf(r.service, r.operation));
    const traces = c && now - c.since <= SUSTAINED_MS ? c.count : 0;
    return traces >= (r.severity === 1 ? BACKED_TAGS : SUSTAINED_TAGS);
  }

  /** Counts a SEV3-or-worse tag of its operation: the traces so tagged within the minute. */
  private countSevere(
    r: { traceId: string; service: string; operation: string; severity: number },
    now: number,
  ): void {
    if (r.severity > 3) return;
    const key = keyOf(r.service, r.operation);
    let c = this.recentSevere.get(key);
    if (!c || now - c.since > SUSTAINED_MS) {
      if (!c && this.recentSevere.size >= MAX_COUNTED_KEYS) return;
      c = { since: now, count: 0, trace: '' };
      this.recentSevere.set(key, c);
    }
    if (c.trace !== r.traceId) {
      c.count++;
      c.trace = r.traceId;
    }
  }

  private create(
    severity: number,
    reason: string,
    now: number,
    seed: string,
  ): Incident | undefined {
    if (this.open.size >= this.config.max_open) {
      this.metrics.refused();
      return undefined;
    }
    let id = newId(now, seed);
    for (let k = 2; this.open.has(id) || this.recent.has(id); k++) id = `${newId(now, seed)}-${k}`;
    const i = new Incident(id, now, severity, reason);
    this.open.set(i.id, i);
    this.dirty.add(i);
    this.metrics.opened(severity);
    return i;
  }

  private join(i: Incident, g: TraceGroup, now: number, blamed: boolean): void {
    const fresh = i.spans === 0;
    const before = i.severity;
    let worse = false;
    for (const t of g.members) {
      const r = t.record;
      worse = this.addSpan(i, r.service, r.operation, r.severity, now, true) || worse;
      i.sample(r.traceId, r.spanId, r.severity);
    }
    if (blamed) {
      const o = g.origin.record;
      const origin: Origin = {
        service: o.service,
        operation: o.operation,
        peerService: g.peerService,
      };
      i.blame(origin, Math.max(g.excessMs, 1e-3));
      if (!this.bySite.has(keyOf(o.service, o.operation))) {
        this.bySite.set(keyOf(o.service, o.operation), i);
      }
      this.index(i, origin);
      this.rememberTrace(g.traceId, i);
    }
    if (fresh) this.emit('opened', i);
    else if (worse && i.severity < before) this.emit('worse', i);
  }

  /** Counts a span; true when the incident got worse. Events are the caller's when `quiet`. */
  private addSpan(
    i: Incident,
    service: string,
    operation: string,
    severity: number,
    now: number,
    quiet = false,
  ): boolean {
    const fresh = i.spans === 0;
    const worse = i.add(service, operation, severity, now);
    if (i.operations.has(keyOf(service, operation))) this.byKey.set(keyOf(service, operation), i);
    this.dirty.add(i);
    this.updated.add(i);
    if (!quiet) {
      if (fresh) this.emit('opened', i);
      else if (worse) this.emit('worse', i);
    }
    return worse;
  }

  /** Indexes where the incident loses its time: its best origin's service, or the peer of its edge. */
  private index(i: Incident, origin: Origin): void {
    const best = i.origin() ?? origin;
    const where = best.peerService ?? best.service;
    if (!this.byService.has(where)) this.byService.set(where, i);
  }

  private rememberTrace(traceId: string, i: Incident): void {
    this.byTrace.delete(traceId);
    this.byTrace.set(traceId, i);
    if (this.byTrace.size > this.config.max_traces) {
      this.byTrace.delete(this.byTrace.keys().next().value!);
    }
  }

  private resolve(i: Incident, now: number): void {
    i.resolve(now);
    this.open.delete(i.id);
    for (const m of [this.byKey, this.byService, this.bySite]) {
      for (const [k, v] of m) if (v === i) m.delete(k);
    }
    this.recent.set(i.id, i);
    this.dirty.add(i);
    this.updated.delete(i);
    if (this.recent.size > MAX_UNWRITTEN) {
      // The database has been failing for long: the oldest resolved are dropped, not held.
      const oldest = this.recent.values().next().value!;
      this.recent.delete(oldest.id);
      this.dirty.delete(oldest);
      this.metrics.droppedUnwritten();
    }
    this.emit('resolved', i);
  }

  private emit(type: IncidentChangeType, i: Incident): void {
    if (this.listeners.size === 0) return;
    const change = { type, incident: i.view() };
    for (const l of this.listeners) l(change);
  }
}

export function keyOf(service: string, operation: string): string {
  return `${service}\u0000${operation}`;
}

function firstOf<T, R>(list: readonly T[], f: (t: T) => R | undefined): R | undefined {
  for (const t of list) {
    const r = f(t);
    if (r !== undefined) return r;
  }
  return undefined;
}

/**
 * Stable, and unique across restarts and instances: the opening time and 48 bits of the trace that
 * opened it (random, as trace ids are), or of a hash of what opened it. Deterministic, so that two
 * replays of the same traces name their incidents alike.
 */
function newId(now: number, seed: string): string {
  return `inc-${Math.floor(now / 1000).toString(36)}-${seed.slice(0, 12)}`;
}

export function matches(v: IncidentView, q: IncidentQuery): boolean {
  if (q.status !== undefined && v.status !== q.status) return false;
  if (q.minSeverity !== undefined && v.severity > q.minSeverity) return false;
  if (q.sinceMs !== undefined && v.updatedAt < q.sinceMs) return false;
  if (q.service !== undefined && !v.services.some((s) => s.service === q.service)) return false;
  return true;
}
