import type { Logger } from 'pino';
import type { IncidentBatch, IncidentPart, LiveRule } from '../internal/store/pg-incidents.js';
import type { IncidentsConfig } from './config.js';
import {
  matches,
  quietPeriodOf,
  type IncidentEngine,
  type IncidentChange,
  type IncidentListener,
} from './engine.js';
import type { IncidentState, IncidentView } from './incident.js';
import type { IncidentMetrics } from './incident-metrics.js';
import { mergeParts } from './incident-merge.js';
import type { IncidentQuery } from './incident-store.js';

/** Fleet incidents kept in memory for reads (all open ones, then the most recently changed). */
const MAX_MIRROR = 2_000;
/** Incident states held while the database cannot be written (beyond: the oldest resolved go). */
const MAX_PENDING = 1_000;
/** Ids remembered as written by this instance (an id not among them is new to the fleet). */
const MAX_WRITTEN = 10_000;
/** Beyond two flush intervals, how long a part (or an instance) may go unwritten and be live. */
const LIVE_SLACK_MS = 5_000;
/** An opening waits this long for its claim (the flush it triggers) before it is told anyway. */
const CLAIM_WAIT_MS = 3_000;

type Role = 'owner' | 'follower';

/** What a flush (or the start) read of the fleet's incidents. */
interface FleetRead {
  readonly parts: readonly IncidentPart[];
  readonly next: string;
  /** Instances that flushed within the parts' live window: those still running. */
  readonly alive: readonly string[];
}

export interface FleetIncidentsOptions {
  /** This instance's name in the database. */
  readonly instance: () => string;
  /** The incidents' quiet settings (a part counts as live for its quiet period). */
  readonly quiet: Pick<IncidentsConfig, 'quiet_period' | 'quiet_growth' | 'max_quiet_period'>;
  readonly flushMs: number;
  readonly metrics: IncidentMetrics;
  readonly logger: Logger;
  readonly now: () => number;
  /** Asks for a flush soon (an opening to claim); never waited on. */
  readonly requestFlush: () => void;
}

/**
 * The incidents of a fleet sharing one PostgreSQL database (schema 6, `hg_incidents`). The engine
 * stays this instance's: it opens and feeds incidents from the spans it tags, in memory, on the
 * traffic path. Each flush writes the incidents that changed as this instance's parts (`take`,
 * then `written`) and reads the parts the others wrote since, into a bounded mirror; reads
 * (`list`, `get`, `openIncidents`: the admin API, the health view) merge the parts of each id.
 *
 * One fault, one fleet incident: an incident new to the fleet is written under the fleet's lock;
 * when another instance already has an open incident of the same origin, this one joins it
 * (`IncidentEngine.adopt`: its later spans carry the fleet's id). One page per fleet incident:
 * an opening is held until its flush claims it (asked for at once; at most `CLAIM_WAIT_MS`, so a
 * SEV1 is still told within 5 s); the instance that claimed it tells its listeners (notifications,
 * the event stream) of the fleet's incident, worse when another instance's part got worse, and
 * resolved once every live part is; an instance that joined another's tells nothing of it.
 */
export class FleetIncidents {
  /** Parts per fleet id and instance, as last read or written. */
  private readonly mirror = new Map<string, Map<string, IncidentState>>();
  /** Taken from the engine, not written yet (the database is slow or down). */
  private readonly pending = new Map<string, IncidentState>();
  private readonly writtenIds = new Set<string>();
  private readonly roles = new Map<string, Role>();
  /** Openings waiting for their claim, with the time they opened. */
  private readonly held = new Map<string, number>();
  /** Severity last told of each owned incident. */
  private readonly told = new Map<string, number>();
  /**
   * Owned incidents resolved here, with the time: told resolved once a flush read that no other
   * part is open (or, the database not answering, after `settleMs`).
   */
  private readonly resolving = new Map<string, number>();
  /** Incidents taken over from an owner gone (`succeed`): told resolved once, not again. */
  private readonly succeeded = new Set<string>();
  /** This instance's incidents left open at its last shutdown (`loaded`), not told resolved yet. */
  private readonly carried = new Set<string>();
  /** The instances that flushed within the parts' live window, as the last read found. */
  private alive: ReadonlySet<string> = new Set();
  /** When a flush last read the others' parts. */
  private readAt = Number.NEGATIVE_INFINITY;
  private readonly listeners = new Set<IncidentListener>();
  private unsubscribe: (() => void) | undefined;
  private unconfirmedLogged = false;
  /** Openings told without their claim (the database did not answer in time). */
  unconfirmed = 0;
  /** The snapshot xmin the others' parts were last read at. */
  since: string | undefined;
  /**
   * False while the database is of a schema older than 6 (a rolling update's older instance
   * migrated it, or a test runs one): incidents stay this instance's, as before.
   */
  shared = true;

  constructor(
    private readonly engine: IncidentEngine,
    private readonly o: FleetIncidentsOptions,
  ) {}

  /** The engine's changed incidents, with those not written yet: what the next flush writes. */
  take(now: number): IncidentBatch {
    this.engine.write(
      {
        upsert: (states) => {
          for (const s of states) this.pending.set(s.id, s);
        },
        trim: () => undefined, // the fleet's retention runs with the baselines' (pg-store.ts)
      },
      now,
    );
    this.limitPending();
    const states = [...this.pending.values()];
    // Never written, and not told yet (an opening told unconfirmed keeps its page and its id).
    const fresh = new Set(
      states
        .filter((s) => !this.writtenIds.has(s.id) && this.roles.get(s.id) !== 'owner')
        .map((s) => s.id),
    );
    return { states, fresh, live: this.liveRule(now) };
  }

  /** After the flush's commit: adoptions, claims, and the others' parts read in it. */
  written(
    batch: IncidentBatch,
    result: { adopted: Map<string, string> } & FleetRead,
    now: number,
  ): void {
    for (const s of batch.states) {
      if (this.pending.get(s.id) === s) this.pending.delete(s.id);
      const id = result.adopted.get(s.id) ?? s.id;
      this.remember(id);
      this.part(id, this.o.instance(), { ...s, id });
      if (!batch.fresh.has(s.id)) continue;
      const fleetId = result.adopted.get(s.id);
      if (fleetId !== undefined && this.engine.adopt(s.id, fleetId)) {
        this.held.delete(s.id);
        this.setRole(fleetId, 'follower');
      } else {
        this.remember(s.id);
        this.claim(s.id, now);
      }
    }
    this.refresh(result, now);
  }

  /**
   * At start: the fleet's open incidents and recent ones; this instance's open ones carry on.
   * Those it opened are its own to notify again (an heir that took them over while it was gone
   * hands them back, `succeed`), from the severity the fleet's incident has reached.
   */
  loaded(read: FleetRead, now: number): void {
    const mine = read.parts.filter(
      (p) => p.instance === this.o.instance() && p.state.status === 'open',
    );
    this.engine.load({ loadOpen: () => mine.map((p) => p.state) });
    for (const p of read.parts) this.part(p.state.id, p.instance, p.state);
    for (const p of mine) {
      this.remember(p.state.id);
      this.carried.add(p.state.id);
      const earliest = [...this.mirror.get(p.state.id)!.entries()].reduce((a, b) =>
        b[1].openedAt < a[1].openedAt ? b : a,
      );
      this.setRole(p.state.id, earliest[0] === this.o.instance() ? 'owner' : 'follower');
    }
    this.refresh(read, now);
    const live = this.isLive(now);
    for (const p of mine) this.told.set(p.state.id, this.view(p.state.id, live)!.severity);
  }

  /** The parts' live window at `now`: an instance that flushed since is running. */
  liveAt(now: number): number {
    return this.liveRule(now).at;
  }

  /**
   * The others' parts read by a flush, with the instances running: into the mirror; the fleet's
   * news to the listeners.
   */
  refresh(read: FleetRead, now: number): void {
    for (const p of read.parts) this.part(p.state.id, p.instance, p.state);
    this.since = read.next;
    this.readAt = now;
    this.alive = new Set(read.alive);
    const live = this.isLive(now);
    for (const [id, severity] of this.told) {
      const v = this.view(id, live);
      if (v && v.status === 'open' && v.severity < severity) {
        this.told.set(id, v.severity);
        this.tell({ type: 'worse', incident: v });
      }
    }
    this.succeed(live, now);
    this.settle(now, true);
    this.limitMirror(live);
  }

  /**
   * An owner gone before its incident resolved (its instance no longer flushes) leaves the
   * incident to no one, and PagerDuty would stay triggered. One instance with a part of it takes
   * over its notifications: `worse`, and `resolved` once no part is live (at once when none is).
   * The owner is the part opened first (as at `loaded`); the heir the running instance of
   * smallest name among the others with a part, so that every instance reading the same parts
   * names the same one. When the heir is gone in turn, the next one takes over; when the owner is
   * back (restarted under its name), the heir hands the incident back to it (`loaded`). An
   * incident resolved longer ago than twice an instance's live window was there for a running
   * heir to tell: it is not told again.
   */
  private succeed(live: (p: IncidentState) => boolean, now: number): void {
    const me = this.o.instance();
    const running = (instance: string) => instance === me || this.alive.has(instance);
    const settledBefore = now - 2 * (2 * this.o.flushMs + LIVE_SLACK_MS);
    const first = [me, ...this.alive].sort(cmp)[0] === me;
    for (const [id, parts] of this.mirror) {
      if (!parts.has(me)) {
        if (first) this.orphaned(id, parts, live, running, settledBefore);
        continue;
      }
      if (parts.size < 2) continue;
      const all = [...parts].sort(([a, x], [b, y]) => x.openedAt - y.openedAt || cmp(a, b));
      const owner = all[0]![0];
      if (owner === me) continue;
      const heir = running(owner)
        ? owner
        : all
            .slice(1)
            .map(([instance]) => instance)
            .filter(running)
            .sort(cmp)[0];
      const held = this.succeeded.has(id);
      if (held && heir !== me) {
        this.handBack(id);
        continue;
      }
      if (held || heir !== me || this.over(all, live) < settledBefore) continue;
      this.takeOver(id, owner);
      const v = this.view(id, live);
      if (!v) continue;
      this.setRole(id, 'owner');
      if (!this.told.has(id)) this.told.set(id, v.severity);
      if (v.status === 'resolved') {
        this.forget(id);
        this.tell({ type: 'resolved', incident: v });
      }
    }
  }

  /**
   * An incident of which no running instance has a part (the one instance that saw it is gone for
   * good: a pod rescheduled under a new name) would be told resolved by none, and PagerDuty would
   * stay triggered. Once it is over, the running instance of smallest name in the fleet (the
   * caller checks it is this one) tells it resolved, once: one whose parts are all resolved was
   * told by its instance; one over longer ago than twice the live window (the fleet was down
   * meanwhile) is left as it is.
   */
  private orphaned(
    id: string,
    parts: ReadonlyMap<string, IncidentState>,
    live: (p: IncidentState) => boolean,
    running: (instance: string) => boolean,
    settledBefore: number,
  ): void {
    if (this.succeeded.has(id)) return;
    const all = [...parts];
    if (all.some(([instance]) => running(instance))) return;
    if (!all.some(([, p]) => p.status === 'open')) return;
    const over = this.over(all, live);
    if (over === Number.POSITIVE_INFINITY || over < settledBefore) return;
    const owner = all.reduce((a, b) => (b[1].openedAt < a[1].openedAt ? b : a))[0];
    this.takeOver(id, owner);
    const v = this.view(id, live);
    if (v) this.tell({ type: 'resolved', incident: v });
  }

  private takeOver(id: string, owner: string): void {
    this.succeeded.add(id);
    if (this.succeeded.size > MAX_WRITTEN) {
      this.succeeded.delete(this.succeeded.values().next().value!);
    }
    this.o.metrics.takenOver();
    this.o.logger.info(
      { incident: id, owner },
      'took over the notifications of an incident whose instance stopped writing it',
    );
  }

  /**
   * When the fleet's incident of these parts was over: its last part resolved or went stale
   * (`isLive`); `Infinity` while one is live.
   */
  private over(parts: readonly [string, IncidentState][], live: (p: IncidentState) => boolean) {
    let at = 0;
    for (const [, p] of parts) {
      if (p.status === 'resolved') at = Math.max(at, p.resolvedAt ?? p.updatedAt);
      else if (live(p)) return Number.POSITIVE_INFINITY;
      else at = Math.max(at, p.updatedAt + this.quietOf(p) + 2 * this.o.flushMs + LIVE_SLACK_MS);
    }
    return at;
  }

  /**
   * An incident taken over whose owner (or an heir before this one) runs again: its
   * notifications are that instance's again. One told resolved already stays told.
   */
  private handBack(id: string): void {
    if (this.roles.get(id) !== 'owner') return;
    this.succeeded.delete(id);
    this.setRole(id, 'follower');
    this.told.delete(id);
    this.resolving.delete(id);
    this.o.logger.info({ incident: id }, 'handed an incident back to the instance that opened it');
  }

  /** Openings whose claim did not come in time are told anyway (the database is slow or down). */
  tick(now: number): void {
    for (const [id, at] of this.held) {
      if (now - at < CLAIM_WAIT_MS) continue;
      this.unconfirmed++;
      if (!this.unconfirmedLogged) {
        this.unconfirmedLogged = true;
        this.o.logger.warn(
          { incident: id },
          'an incident opened while the shared database did not answer: notified without checking whether another instance already opened it (logged once)',
        );
      }
      this.claim(id, now);
    }
    this.settle(now, false);
  }

  /** Whatever fails is kept: the batch stays pending, within its bound. */
  failed(): void {
    this.limitPending();
  }

  list(q: IncidentQuery, now: number): IncidentView[] {
    const live = this.isLive(now);
    const out: IncidentView[] = [];
    for (const id of this.ids()) {
      const v = this.view(id, live);
      if (v && matches(v, q)) out.push(v);
    }
    return out.sort((a, b) => b.openedAt - a.openedAt).slice(0, q.limit);
  }

  get(id: string, now: number): IncidentView | undefined {
    return this.view(id, this.isLive(now));
  }

  openIncidents(now: number): IncidentView[] {
    return this.list({ status: 'open', limit: Number.MAX_SAFE_INTEGER }, now);
  }

  subscribe(listener: IncidentListener): () => void {
    this.listeners.add(listener);
    this.unsubscribe ??= this.engine.subscribe((c) => this.changed(c));
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size > 0) return;
      this.unsubscribe?.();
      this.unsubscribe = undefined;
    };
  }

  /** The engine's events, as the fleet's: held, passed on, or dropped (see the class). */
  private changed(c: IncidentChange): void {
    if (!this.shared) {
      this.tell(c);
      return;
    }
    const id = c.incident.id;
    const role = this.roles.get(id);
    if (role === 'follower') {
      if (c.type === 'resolved') {
        this.roles.delete(id);
        this.carried.delete(id);
      }
      return;
    }
    if (role === undefined) {
      if (c.type === 'opened') {
        this.held.set(id, c.incident.updatedAt);
        this.o.requestFlush();
      }
      // Held: the opening, when told, is the incident as it is then.
      if (this.held.has(id)) return;
    }
    if (c.type === 'resolved') {
      this.resolving.set(id, this.o.now());
      return;
    }
    const v = this.get(id, this.o.now()) ?? c.incident;
    if (c.type === 'opened' || c.type === 'worse') this.told.set(id, v.severity);
    this.tell({ type: c.type, incident: v });
  }

  /** An opening of this instance's that is the fleet's: told now. */
  private claim(id: string, now: number): void {
    this.setRole(id, 'owner');
    if (!this.held.delete(id)) return;
    const v = this.get(id, now);
    if (!v) return;
    this.told.set(id, v.severity);
    this.tell({ type: 'opened', incident: v });
    if (v.status === 'resolved') {
      this.forget(id);
      this.tell({ type: 'resolved', incident: v });
    }
  }

  /**
   * Owned incidents resolved here are told resolved once the fleet's is: after a flush read the
   * others' parts (`read`), or once the database has not answered for a while.
   */
  private settle(now: number, read: boolean): void {
    for (const [id, at] of this.resolving) {
      if (!read && (this.readAt >= at || now - at < 2 * this.o.flushMs + CLAIM_WAIT_MS)) continue;
      const v = this.get(id, now);
      if (v && v.status === 'open' && read) continue;
      this.resolving.delete(id);
      this.forget(id);
      if (v) this.tell({ type: 'resolved', incident: v });
    }
  }

  private forget(id: string): void {
    this.roles.delete(id);
    this.told.delete(id);
  }

  /** The fleet's news to the listeners; receivers heard of inherited and carried ones already. */
  private tell(change: IncidentChange): void {
    const id = change.incident.id;
    if (this.succeeded.has(id) || this.carried.has(id)) change = { ...change, inherited: true };
    if (change.type === 'resolved') this.carried.delete(id);
    for (const l of this.listeners) l(change);
  }

  private view(id: string, isLive: (p: IncidentState) => boolean): IncidentView | undefined {
    const local = this.engine.state(id);
    const parts: IncidentState[] = [];
    for (const [instance, s] of this.mirror.get(id) ?? []) {
      if (instance !== this.o.instance() || !local) parts.push(s);
    }
    if (local) parts.push(local);
    return parts.length === 0 ? undefined : mergeParts(parts, isLive);
  }

  private ids(): Set<string> {
    const ids = new Set(this.mirror.keys());
    for (const id of this.engine.ids()) ids.add(id);
    return ids;
  }

  private part(id: string, instance: string, s: IncidentState): void {
    let m = this.mirror.get(id);
    if (!m) this.mirror.set(id, (m = new Map()));
    m.set(instance, s);
  }

  private remember(id: string): void {
    this.writtenIds.delete(id);
    this.writtenIds.add(id);
    if (this.writtenIds.size > MAX_WRITTEN) {
      this.writtenIds.delete(this.writtenIds.values().next().value!);
    }
  }

  private setRole(id: string, role: Role): void {
    this.roles.set(id, role);
    if (this.roles.size > MAX_WRITTEN) this.roles.delete(this.roles.keys().next().value!);
  }

  /**
   * Whether a part is live at `now`: changed within its quiet period (`quietPeriodOf`, from its
   * length when it last changed, as pg-incidents.ts reads it) plus two flush intervals and 5 s.
   * An open part older than that is of an instance gone (a live one resolves its quiet parts).
   */
  private isLive(now: number): (p: IncidentState) => boolean {
    const r = this.liveRule(now);
    return (p) => p.updatedAt + this.quietOf(p) >= r.at;
  }

  private quietOf(p: IncidentState): number {
    return quietPeriodOf(this.o.quiet, { openedAt: p.openedAt, lastSeen: p.updatedAt });
  }

  private liveRule(now: number): LiveRule {
    return {
      at: now - 2 * this.o.flushMs - LIVE_SLACK_MS,
      quietMs: this.o.quiet.quiet_period,
      growth: this.o.quiet.quiet_growth,
      maxQuietMs: this.o.quiet.max_quiet_period,
    };
  }

  /** Beyond its bound, the resolved incidents changed longest ago leave the mirror. */
  private limitMirror(isLive: (p: IncidentState) => boolean): void {
    if (this.mirror.size <= MAX_MIRROR) return;
    const resolved = [...this.mirror.keys()]
      .map((id) => this.view(id, isLive)!)
      .filter((v) => v.status === 'resolved' && !this.engine.state(v.id))
      .sort((a, b) => a.updatedAt - b.updatedAt);
    for (const v of resolved.slice(0, this.mirror.size - MAX_MIRROR)) this.mirror.delete(v.id);
  }

  /** Beyond its bound, the resolved incidents changed longest ago are dropped unwritten. */
  private limitPending(): void {
    if (this.pending.size <= MAX_PENDING) return;
    const resolved = [...this.pending.values()]
      .filter((s) => s.status === 'resolved')
      .sort((a, b) => a.updatedAt - b.updatedAt);
    for (const s of resolved.slice(0, this.pending.size - MAX_PENDING)) {
      this.pending.delete(s.id);
      this.o.metrics.droppedUnwritten();
    }
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
