import { createHash } from 'node:crypto';
import type { TraceIndex } from '../../../otlp/trace-index.js';
import { ChildMemory } from './child-memory.js';
import type { IncidentsConfig } from './config.js';
import {
  Incident,
  stateOf,
  restoreIncident,
  type IncidentState,
  type IncidentView,
  type Origin,
  type Resolution,
} from './incident.js';
import type { IncidentMetrics } from './incident-metrics.js';
import type { IncidentQuery, IncidentStore } from './incident-store.js';
import { OperationKeys } from './operation-keys.js';
import type { LevelLookup } from './origin-level.js';
import { RecencyMap } from './recency-map.js';
import { groupByTrace, type TaggedSpan, type TraceGroup } from './trace-groups.js';

export type IncidentChangeType =
  'opened' | 'reopened' | 'worse' | 'updated' | 'summary' | 'resolved';

export interface IncidentChange {
  readonly type: IncidentChangeType;
  readonly incident: IncidentView;
  /**
   * The incident's receivers heard of it before this process did: it was left open at the last
   * shutdown and continued (`load`), or an instance of a fleet took it over from the instance
   * that opened it and told its opening (gone before it resolved, fleet-incidents.ts). Receivers
   * that the routes name for it are told of its changes.
   */
  readonly inherited?: boolean;
}

export type IncidentListener = (change: IncidentChange) => void;

/** What opens an incident without a span (a drop of traffic: issue 14). */
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

/** Opens on an operation's slowdown at SEV3 or worse, or on a SEV1 span (once confirmed). */
export function opensIncident(r: { severity: number; reason: string }): boolean {
  return r.severity === 1 || (r.reason === 'slow_operation' && r.severity <= 3);
}

/**
 * A slowdown is sustained, as an operation's level would say, when this many of its spans are
 * tagged SEV3 or worse within `SUSTAINED_MS` (a key too young for its level to judge, or judged
 * against another hour's baseline, still opens an incident when it keeps being slow).
 */
const SUSTAINED_TAGS = 5;
const SUSTAINED_MS = 60_000;
/** Operations whose recent SEV3-or-worse tags are counted at once. */
const MAX_COUNTED_KEYS = 10_000;
/**
 * Readings of its origin's level (one per span) an incident held by `hold_while_slower` waits for
 * before their mean may resolve it.
 */
const HOLD_READINGS = 5;
/** How long a tagged span waits for its parent to arrive (child-memory.ts). */
const CHILD_MEMORY_MS = 60_000;

/**
 * The incident engine of one `anomaly` processor. The processor hands it the spans it tags in a
 * request, synchronously, before the request is forwarded (`assign`); it answers with each span's
 * incident id, which the processor writes as `anomaly.incident_id`. All in memory, bounded; the
 * processor's flush writes what changed to SQLite in its own transaction (`write`).
 *
 * A request's tagged spans are grouped by trace (trace-groups.ts). A trace joins the incident that
 * one of its spans' traces, operations or origin services already belongs to; else, when one of
 * its spans opens an incident (`opensIncident`), a new one opens, its origin the trace's. The
 * origin of an incident is the origin its traces blame most (ms of own time lost).
 */
export class IncidentEngine {
  private readonly open = new Map<string, Incident>();
  /** `service \0 operation` of the spans of open incidents. */
  private readonly byKey = new Map<string, Incident>();
  /** Origin services (and peers of call edges) of open incidents. */
  private readonly byService = new Map<string, Incident>();
  /** Recent traces and their incident, oldest first (bounded by max_traces). */
  private readonly byTrace = new RecencyMap<Incident>();
  /** Resolved incidents not yet written, then the last few, for reads. */
  private readonly recent = new Map<string, Incident>();
  private readonly dirty = new Set<Incident>();
  private readonly updated = new Set<Incident>();
  private readonly listeners = new Set<IncidentListener>();
  /** Open incidents continued from the last shutdown (`load`): told as `inherited`. */
  private readonly carried = new Set<string>();
  private lastUpdates = 0;
  /** Per operation: SEV3-or-worse tags since `since` (sustained slowdowns). */
  private readonly recentSevere = new Map<string, { since: number; count: number }>();
  /** Per operation: its run of SEV3-or-worse tags, `open_after` apart at most (`held`). */
  private readonly runs = new Map<string, { first: number; last: number }>();
  /** Per operation: a lone tag that would open an incident, waiting for a second trace. */
  private readonly pending = new Map<string, Pending>();
  /** The held trace the group in hand confirmed (`assign` tags its spans when in the request). */
  private confirmedNow: TraceGroup | undefined;
  /** Resolved incidents by their origin's `service \0 operation`, for `reopen_within`. */
  private readonly resolvedByOrigin = new Map<string, Incident>();
  /** Incidents reopened by the group being joined (their event follows the join). */
  private readonly reopening = new Set<Incident>();
  /** Tagged spans whose parent has not come yet (bounded like the traces). */
  private readonly children: ChildMemory;
  /** `service \0 operation` of the spans it is handed, for the Maps above. */
  private readonly keys = new OperationKeys(MAX_COUNTED_KEYS);

  /**
   * `levelOf`: the processor's level of an operation (origin-level.ts), for `hold_while_slower`;
   * without it no incident is held.
   */
  constructor(
    readonly config: IncidentsConfig,
    private readonly metrics: IncidentMetrics,
    readonly levelOf?: LevelLookup,
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
    for (const g of groupByTrace(index, tagged, this.children, now)) {
      const incident = this.incidentOf(g, now);
      if (!incident) continue;
      this.join(incident, g, now);
      for (const t of g.members) ids[at.get(t)!] = incident.id;
      // A trace held earlier in this request, which this one confirmed, is tagged too.
      for (const t of this.confirmedNow?.members ?? []) {
        const k = at.get(t);
        if (k !== undefined) ids[k] = incident.id;
      }
      this.confirmedNow = undefined;
    }
    return ids;
  }

  /**
   * Opens an incident without a span (or joins the open one of that operation or service):
   * for detectors that see what no span shows (a drop of traffic). Returns its id, or undefined
   * when max_open incidents are open.
   */
  openIncident(req: OpenRequest, now: number): string | undefined {
    const key = this.keys.of(req.service, req.operation);
    let incident =
      this.byKey.get(key) ?? this.byService.get(req.service) ?? this.reopenable(key, now);
    if (incident && !incident.open) incident = this.reopen(incident, now);
    else if (!incident) {
      const seed = createHash('sha256')
        .update(`${req.service}\u0000${req.operation}\u0000${req.reason}`)
        .digest('hex');
      incident = this.create(req.severity, req.reason, now, seed);
    }
    if (!incident) return undefined;
    const origin: Origin = { service: req.service, operation: req.operation, peerService: null };
    incident.blame(origin, 1);
    const back = this.reopening.delete(incident);
    this.addSpan(incident, req.service, req.operation, req.severity, now, back);
    if (this.keepsOpenFor(incident, req.service, req.operation, req.severity)) {
      incident.tagEnd = Math.max(incident.tagEnd, now);
    }
    const best = incident.origin();
    if (best && this.keepsOpen(req, best)) incident.originSeen = now;
    if (back) this.emit('reopened', incident);
    this.index(incident, origin);
    return incident.id;
  }

  /** Resolves incidents quiet for long enough (`quiet`), sends due `updated` events, sets the gauges. */
  tick(now: number): void {
    this.children.expire(now);
    for (const [k, c] of this.recentSevere) {
      if (now - c.since > SUSTAINED_MS) this.recentSevere.delete(k);
    }
    for (const [k, r] of this.runs) {
      if (now - r.last > this.config.open_after) this.runs.delete(k);
    }
    for (const [k, p] of this.pending) if (now - p.at > p.within) this.pending.delete(k);
    for (const [k, i] of this.resolvedByOrigin) {
      if (i.open || now - i.resolvedAt! > this.config.reopen_within)
        this.resolvedByOrigin.delete(k);
    }
    for (const i of [...this.open.values()]) {
      if (!this.quiet(i, now)) continue;
      const resolution = this.hold(i, now);
      if (resolution !== 'held') this.resolve(i, now, resolution);
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

  /** Ids of the incidents in memory: open, and the last resolved ones. */
  ids(): string[] {
    return [...this.open.keys(), ...this.recent.keys()];
  }

  /** An incident in memory as the store keeps it. */
  state(id: string): IncidentState | undefined {
    const i = this.open.get(id) ?? this.recent.get(id);
    return i && stateOf(i);
  }

  /**
   * Renames an incident of this engine to `fleetId`: another instance of a fleet opened the same
   * fault first (fleet-incidents.ts). Its later spans are tagged with `fleetId`; a resolved
   * incident of that id here (written) leaves memory. False when there is no such incident, or an
   * open one has `fleetId` here.
   */
  adopt(localId: string, fleetId: string): boolean {
    const old = this.open.get(localId) ?? this.recent.get(localId);
    if (!old || localId === fleetId) return old !== undefined;
    if (this.open.has(fleetId)) return false;
    const done = this.recent.get(fleetId);
    if (done) {
      this.recent.delete(fleetId);
      this.dirty.delete(done);
    }
    const i = restoreIncident({ ...stateOf(old), id: fleetId });
    const swap = <K>(m: Map<K, Incident>) => {
      for (const [k, v] of m) if (v === old) m.set(k, i);
    };
    for (const m of [this.byKey, this.byService, this.resolvedByOrigin]) swap(m);
    for (const [k, v] of this.byTrace) if (v === old) this.byTrace.replace(k, i);
    for (const [m, set] of [
      [this.open, old.open],
      [this.recent, !old.open],
    ] as const) {
      if (!set) continue;
      m.delete(localId);
      m.set(fleetId, i);
    }
    for (const s of [this.dirty, this.updated]) if (s.delete(old)) s.add(i);
    return true;
  }

  /** Continues the incidents left open at the last shutdown. */
  load(store: Pick<IncidentStore, 'loadOpen'>): void {
    for (const s of store.loadOpen()) {
      if (this.open.has(s.id) || this.open.size >= this.config.max_open) continue;
      const i = restoreIncident(s);
      this.open.set(i.id, i);
      this.carried.add(i.id);
      const origin = i.origin();
      if (origin) this.index(i, origin);
      for (const o of i.operations.values())
        this.byKey.set(this.keys.of(o.service, o.operation), i);
    }
  }

  /** Writes what changed (in the caller's transaction) and applies retention. */
  write(store: Pick<IncidentStore, 'upsert' | 'trim'>, now: number): void {
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

  private incidentOf(g: TraceGroup, now: number): Incident | undefined {
    const seen = this.byTrace.get(g.traceId);
    if (seen?.open) return seen;
    const o = g.origin.record;
    const found =
      this.byKey.get(this.keys.of(o.service, o.operation)) ??
      firstOf(g.members, (t) =>
        this.byKey.get(this.keys.of(t.record.service, t.record.operation)),
      ) ??
      (g.peerService === null ? undefined : this.byService.get(g.peerService)) ??
      this.byService.get(o.service);
    if (found) return found;
    for (const t of g.members) this.extendRun(t.record, now);
    let worst: TaggedSpan | undefined;
    let severity = 0;
    let confirmed: Pending | undefined;
    for (const t of g.members) {
      const r = t.record;
      const key = this.keys.of(r.service, r.operation);
      const p = this.pending.get(key);
      const confirms =
        p !== undefined &&
        r.severity <= 3 &&
        r.traceId !== p.group.traceId &&
        now - p.at <= p.within;
      if (confirms) {
        // A second trace confirms the lone tag held before: it opens with that tag's severity.
        this.pending.delete(key);
        if (!worst || p.severity < severity) {
          worst = t;
          severity = p.severity;
          confirmed = p;
        }
      }
      const opens = opensIncident(r) || this.sustained(r, now);
      if (!opens || !this.held(r, now)) continue;
      const within = this.confirmWithin(r);
      if (within > 0) {
        if (!confirms && !this.pending.has(key) && this.pending.size < MAX_COUNTED_KEYS) {
          this.pending.set(key, {
            group: g,
            severity: r.severity,
            reason: r.reason,
            at: now,
            within,
          });
        }
        continue;
      }
      if (!worst || r.severity < severity) {
        worst = t;
        severity = r.severity;
        confirmed = undefined;
      }
    }
    if (!worst) return undefined;
    const back = this.reopenable(this.keys.of(o.service, o.operation), now);
    if (back) return this.reopen(back, now);
    const reason = confirmed ? confirmed.reason : worst.record.reason;
    const opener = confirmed ? confirmed.group.traceId : worst.record.traceId;
    const i = this.create(severity, reason, now, opener);
    // The trace that was held joins first: the incident opens with its span and its origin.
    if (i && confirmed && !this.byTrace.get(confirmed.group.traceId)?.open) {
      this.join(i, confirmed.group, now);
      this.confirmedNow = confirmed.group;
    }
    return i;
  }

  /**
   * Quiet for long enough to resolve: no span that keeps it open for `quiet_period`, and none of
   * its origin's operation for its grown quiet period (`quietPeriodOf` its length to that span).
   */
  private quiet(i: Incident, now: number): boolean {
    if (now - i.lastSeen < this.config.quiet_period) return false;
    return (
      now - i.originSeen >=
      quietPeriodOf(this.config, { openedAt: i.openedAt, lastSeen: i.originSeen })
    );
  }

  /**
   * Past its quiet period, an incident stays open (`hold_while_slower`: `held`) while its origin's
   * operation is still that much slower than its slots' medians: the geometric mean of the
   * processor's level ratio, read once per span of it that ended after the last tag that kept the
   * incident open. Fewer than `HOLD_READINGS` readings: it waits for them (one span is not a
   * level). Else it resolves, and says why (`Resolution`): at once (`quiet`) when no span of its
   * origin ended after that tag (a short fault whose traffic stopped, a gap in the data: nothing
   * says the slowdown goes on); once held, when the mean is back under the bar (`recovered`), when
   * no span of its origin ended for its quiet period (`spans_stopped`: span end times against the
   * clock, as the processor reads them), or `max_hold` after its origin's last SEV3-or-worse tag.
   */
  private hold(i: Incident, now: number): Resolution | 'held' {
    const bar = this.config.hold_while_slower;
    const o = i.origin();
    if (bar === 0 || !this.levelOf || o === null) return 'quiet';
    const held = i.held !== null;
    const level = this.levelOf(o.service, o.operation);
    if (!level || !(level.lastSpanAt > i.tagEnd)) return held ? 'spans_stopped' : 'quiet';
    if (now - i.originSeen > this.config.max_hold) return held ? 'max_hold' : 'quiet';
    const quiet = quietPeriodOf(this.config, { openedAt: i.openedAt, lastSeen: i.originSeen });
    if (now - level.lastSpanAt > quiet) return held ? 'spans_stopped' : 'quiet';
    if (!held) i.hold = { since: i.lastSeen, readings: 0, sumLog: 0, lastSpanAt: 0 };
    const h = i.hold!;
    // Held, and each reading: an `updated` event (at most once a second), so that a held
    // incident's JSON (`held`) reaches the incident stream.
    if (!held) this.updated.add(i);
    if (level.lastSpanAt > h.lastSpanAt) {
      h.readings++;
      h.sumLog += Math.log(level.ratio);
      h.lastSpanAt = level.lastSpanAt;
      this.dirty.add(i);
      this.updated.add(i);
    }
    if (h.readings >= HOLD_READINGS && h.sumLog < h.readings * Math.log(bar)) return 'recovered';
    return 'held';
  }

  /** The incident of this origin (`service \0 operation`) resolved within `reopen_within`. */
  private reopenable(key: string, now: number): Incident | undefined {
    const i = this.resolvedByOrigin.get(key);
    return i && !i.open && now - i.resolvedAt! <= this.config.reopen_within ? i : undefined;
  }

  /** Opens a recently resolved incident again, under its id (undefined when max_open are open). */
  private reopen(i: Incident, now: number): Incident | undefined {
    if (this.open.size >= this.config.max_open) {
      this.metrics.refused();
      return undefined;
    }
    i.reopen(now);
    this.open.set(i.id, i);
    this.recent.delete(i.id);
    this.dirty.add(i);
    this.reopening.add(i);
    this.metrics.reopened();
    return i;
  }

  /** Extends the operation's run of SEV3-or-worse tags (or starts one after a gap). */
  private extendRun(r: { service: string; operation: string; severity: number }, now: number) {
    if (r.severity > 3 || this.config.open_after === 0) return;
    const key = this.keys.of(r.service, r.operation);
    const run = this.runs.get(key);
    if (run && now - run.last <= this.config.open_after) run.last = now;
    else if (run || this.runs.size < MAX_COUNTED_KEYS)
      this.runs.set(key, { first: now, last: now });
  }

  /**
   * A SEV3 level (`slow_operation`) opens once its operation's run of SEV3-or-worse tags has
   * lasted `open_after`: a blip of one or two slow spans opens nothing. SEV1 and SEV2 are not
   * held (they wait for a second trace: `confirmWithin`).
   */
  private held(
    r: { service: string; operation: string; severity: number; reason: string },
    now: number,
  ) {
    if (r.severity < 3 || r.reason !== 'slow_operation' || this.config.open_after === 0) {
      return true;
    }
    const run = this.runs.get(this.keys.of(r.service, r.operation));
    return run !== undefined && now - run.first >= this.config.open_after;
  }

  /**
   * How long a tag that would open an incident waits for a second trace to confirm it (0: it
   * opens at once): a SEV1 span, `sev1_confirm_within`; a slow operation's SEV2 (its level, or a
   * short run of slow spans), `sev2_confirm_within`.
   */
  private confirmWithin(r: { severity: number; reason: string }): number {
    if (r.severity === 1) return this.config.sev1_confirm_within;
    return r.severity === 2 && r.reason === 'slow_operation' ? this.config.sev2_confirm_within : 0;
  }

  /** Counts a SEV3-or-worse tag of its operation; true once the operation's are sustained. */
  private sustained(
    r: { service: string; operation: string; severity: number },
    now: number,
  ): boolean {
    if (r.severity > 3) return false;
    const key = this.keys.of(r.service, r.operation);
    let c = this.recentSevere.get(key);
    if (!c || now - c.since > SUSTAINED_MS) {
      if (!c && this.recentSevere.size >= MAX_COUNTED_KEYS) return false;
      c = { since: now, count: 0 };
      this.recentSevere.set(key, c);
    }
    c.count++;
    return c.count >= SUSTAINED_TAGS;
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
    i.blameUntil = now + this.config.origin_window;
    this.open.set(i.id, i);
    this.dirty.add(i);
    this.metrics.opened(severity);
    return i;
  }

  private join(i: Incident, g: TraceGroup, now: number): void {
    const fresh = i.spans === 0;
    const before = i.severity;
    const o = g.origin.record;
    const origin: Origin = {
      service: o.service,
      operation: o.operation,
      peerService: g.peerService,
    };
    // The origin is where the fault started: with `origin_window`, the traces of the incident's
    // first minutes blame, and again when it gets worse (a new notification); later ones, and
    // a trace whose origin is tagged milder than `blame_severity`, join with a token weight.
    const window = this.config.origin_window;
    if (window > 0 && g.members.some((t) => t.record.severity < i.severity)) {
      i.blameUntil = now + window;
    }
    const blames =
      o.severity <= this.config.blame_severity && (window === 0 || now <= i.blameUntil);
    i.blame(origin, blames ? Math.max(g.excessMs, 1e-3) : 1e-6);
    let worse = false;
    for (const t of g.members) {
      const r = t.record;
      worse = this.addSpan(i, r.service, r.operation, r.severity, now, true) || worse;
      i.sample(r.traceId, r.spanId, r.severity);
      if (this.keepsOpenFor(i, r.service, r.operation, r.severity)) {
        i.tagEnd = Math.max(i.tagEnd, r.startMs + r.durationMs);
      }
    }
    this.index(i, origin);
    this.rememberTrace(g.traceId, i);
    const best = i.origin();
    if (best && g.members.some((t) => this.keepsOpen(t.record, best))) i.originSeen = now;
    if (fresh) this.emit('opened', i);
    else if (this.reopening.delete(i)) this.emit('reopened', i);
    else if (worse && i.severity < before) this.emit('worse', i);
  }

  /**
   * A span of the origin's operation tagged SEV3 or worse (what opens an incident, and at most
   * `keep_open_severity`): the evidence that makes an incident's quiet period grow. Milder tags
   * of it keep it open for `quiet_period` only, so that a busy operation's SEV4-5 tags do not
   * keep a one-span incident open for hours.
   */
  private keepsOpen(
    r: { service: string; operation: string; severity: number },
    o: Origin,
  ): boolean {
    return (
      r.severity <= Math.min(3, this.config.keep_open_severity) &&
      r.service === o.service &&
      r.operation === o.operation
    );
  }

  /**
   * A tag keeps the incident open (counts against `quiet_period`) when it is at most
   * `keep_open_severity`, and, of an operation other than its origin's, at most
   * `keep_open_elsewhere`: a busy caller's SEV4-5 tags at their nominal rates are not evidence
   * that the fault goes on.
   */
  private keepsOpenFor(i: Incident, service: string, operation: string, severity: number) {
    if (severity > this.config.keep_open_severity) return false;
    if (severity <= this.config.keep_open_elsewhere) return true;
    const o = i.origin();
    return o === null || (o.service === service && o.operation === operation);
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
    const key = this.keys.of(service, operation);
    const worse = i.add(
      key,
      service,
      operation,
      severity,
      now,
      this.keepsOpenFor(i, service, operation, severity),
    );
    if (i.operations.has(key)) this.byKey.set(key, i);
    this.dirty.add(i);
    this.updated.add(i);
    if (!quiet) {
      if (fresh) this.emit('opened', i);
      else if (worse) this.emit('worse', i);
    }
    return worse;
  }

  private index(i: Incident, origin: Origin): void {
    const best = i.origin() ?? origin;
    if (!this.byService.has(best.service)) this.byService.set(best.service, i);
    if (best.peerService !== null && !this.byService.has(best.peerService)) {
      this.byService.set(best.peerService, i);
    }
  }

  private rememberTrace(traceId: string, i: Incident): void {
    this.byTrace.touch(traceId, i);
    if (this.byTrace.size > this.config.max_traces) this.byTrace.shift();
  }

  private resolve(i: Incident, now: number, resolution: Resolution = 'quiet'): void {
    i.resolve(now, resolution);
    this.open.delete(i.id);
    for (const m of [this.byKey, this.byService]) {
      for (const [k, v] of m) if (v === i) m.delete(k);
    }
    this.recent.set(i.id, i);
    this.dirty.add(i);
    this.updated.delete(i);
    const o = i.origin();
    if (o && this.config.reopen_within > 0) {
      const key = this.keys.of(o.service, o.operation);
      this.resolvedByOrigin.delete(key);
      this.resolvedByOrigin.set(key, i);
      if (this.resolvedByOrigin.size > this.config.max_open) {
        this.resolvedByOrigin.delete(this.resolvedByOrigin.keys().next().value!);
      }
    }
    if (this.recent.size > MAX_UNWRITTEN) {
      // The database has been failing for long: the oldest resolved are dropped, not held.
      const oldest = this.recent.values().next().value!;
      this.recent.delete(oldest.id);
      this.dirty.delete(oldest);
      this.metrics.droppedUnwritten();
    }
    this.emit('resolved', i);
    this.carried.delete(i.id);
  }

  private emit(type: IncidentChangeType, i: Incident): void {
    if (this.listeners.size === 0) return;
    const change: IncidentChange = this.carried.has(i.id)
      ? { type, incident: i.view(), inherited: true }
      : { type, incident: i.view() };
    for (const l of this.listeners) l(change);
  }
}

/**
 * How long an incident must be quiet to resolve: `quiet_period`, or, once it has lasted long,
 * `quiet_growth` times its length so far (to `max_quiet_period`). As an alert that has been
 * firing for hours waits longer before it is called resolved: a day-long slowdown whose tags
 * pause for a quarter of an hour stays one incident, a four-minute fault still resolves after
 * `quiet_period`.
 */
export function quietPeriodOf(
  config: Pick<IncidentsConfig, 'quiet_period' | 'quiet_growth' | 'max_quiet_period'>,
  i: { readonly openedAt: number; readonly lastSeen: number },
): number {
  const grown = config.quiet_growth * (i.lastSeen - i.openedAt);
  return Math.max(config.quiet_period, Math.min(config.max_quiet_period, grown));
}

/** A lone tag that would open an incident, waiting for a second trace (`confirmWithin`). */
interface Pending {
  readonly group: TraceGroup;
  readonly severity: number;
  readonly reason: string;
  readonly at: number;
  readonly within: number;
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
