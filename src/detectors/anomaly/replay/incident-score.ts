import type { IncidentView, Origin } from '../incidents/incident.js';
import type { Fault } from './faults.js';
import { FAULT_MS, POSITIVE, type Labels } from './protocol.js';
import type { ReplayRun } from './replay.js';
import { classifyUnmatched, touches, type UnmatchedBreakdown } from './unmatched.js';

/** How the incidents of a replay answer one latency fault. */
export interface FaultIncidents {
  readonly at: string;
  readonly service: string;
  readonly type: string;
  /** Incidents opened for it (within its four minutes, touching its service). */
  readonly incidents: number;
  /** Their ids, oldest first. */
  readonly ids: readonly string[];
  /** The origin of the first of them, as text; null when none opened. */
  readonly origin: string | null;
  /** The origin names the injected service (or, for a network delay, the call edge into it). */
  readonly originCorrect: boolean | null;
  /** Seconds from the end of its first tagged positive span to the first incident's opening. */
  readonly toIncidentS: number | null;
  /**
   * Seconds from the end of its first tagged positive span to the first incident's `opened`
   * event (the notification `incident_notifier` sends at once; its own latency is not included).
   */
  readonly toNotificationS: number | null;
  /**
   * The other reading, beside this strict one (`carried`): the incident that the most of its
   * tagged positive spans carry (`anomaly.incident_id`, what an on-call engineer is shown with
   * them), whenever it opened; null when none of them carries one.
   */
  readonly carried: CarriedIncident | null;
}

/** The incident a fault's tagged positive spans carry, and what it says. */
export interface CarriedIncident {
  readonly id: string;
  readonly origin: string;
  /** Its origin names the injected service (`names`). */
  readonly originCorrect: boolean;
  /** Seconds from the injection to its opening: negative when it was open before. */
  readonly openedAfterS: number;
  /** Tagged positive spans carrying it, of those tagged. */
  readonly spans: number;
  readonly tagged: number;
}

export interface IncidentScoring {
  readonly faults: FaultIncidents[];
  readonly latencyFaults: number;
  /** Faults with at least one incident. */
  readonly detected: number;
  /** Incidents per detected fault (the goal is 1). */
  readonly perDetectedFault: number;
  /** Share of detected faults whose first incident names the injected service or edge. */
  readonly originAccuracy: number;
  /** Median seconds from the first slow span to the incident (and so its notification). */
  readonly medianToIncidentS: number | null;
  /** Median seconds from the first slow span to the notification of the incident opening. */
  readonly medianToNotificationS: number | null;
  /** Incidents that match no fault, and per hour of traffic judged. */
  readonly unmatched: number;
  readonly unmatchedPerHour: number;
  /**
   * Beside them, what they are (unmatched.ts): a non-latency fault's, the aftermath of an
   * injection, the minute before one, or none of these.
   */
  readonly unmatchedKinds: UnmatchedBreakdown;
  /**
   * Beside the strict reading: latency faults whose tagged positives carry an incident (opened
   * within the fault's four minutes or before), and of them those whose origin names the
   * injected service.
   */
  readonly carried: number;
  readonly carriedRight: number;
}

/** Where the time was lost, as `payments POST /charge` or `checkout → payments (POST /charge)`. */
export function originText(v: IncidentView): string {
  const o = v.origin;
  if (!o) return '-';
  return o.peerService
    ? `${o.service} → ${o.peerService} (${o.operation})`
    : `${o.service} ${o.operation}`;
}

/** The median of the numbers given (the lower of the middle two), null when there are none. */
export function medianOf(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)]!;
}

/**
 * The origin names the service: it is the service, or the call edge into it (the time was lost
 * between the caller's client span and the service's span: on the network, or in the service's
 * pod before its span started, as when its CPU is starved and requests queue).
 */
function names(o: Origin, service: string): boolean {
  return o.service === service || o.peerService === service;
}

/**
 * Scores a replay's incidents against its latency faults: an incident is a fault's when it opened
 * within the fault's four minutes (from its injection) and touches the injected service (its
 * origin, the peer of its call edge, or one of its services). Its origin is right when it names
 * the injected service: the service itself or the call edge into it, for a network delay and a CPU
 * fault alike (`names`).
 */
export function scoreIncidents(
  run: ReplayRun,
  faults: readonly Fault[],
  labels: Labels,
  hours: number,
): IncidentScoring {
  const latency = faults.filter((f) => f.latency);
  const incidents = [...run.incidents].sort((a, b) => a.openedAt - b.openedAt);
  const used = new Set<string>();
  const t = run.stream.table;
  // The end of each fault's first tagged positive span.
  const firstSlow = new Map<number, number>();
  // Per fault: its tagged positives, and how many of them carry each incident.
  const tagged = new Map<number, number>();
  const carriers = new Map<number, Map<string, number>>();
  for (let i = 0; i < t.count; i++) {
    if (labels.label[i] !== POSITIVE || run.severity[i] === 0) continue;
    const f = labels.fault[i]!;
    const end = t.endMs(i);
    if (!(end >= (firstSlow.get(f) ?? Number.POSITIVE_INFINITY))) firstSlow.set(f, end);
    tagged.set(f, (tagged.get(f) ?? 0) + 1);
    const id = run.spanIncident.get(i);
    if (id === undefined) continue;
    let c = carriers.get(f);
    if (!c) carriers.set(f, (c = new Map()));
    c.set(id, (c.get(id) ?? 0) + 1);
  }
  const byId = new Map(incidents.map((v) => [v.id, v]));
  const carriedOf = (f: Fault, j: number): CarriedIncident | null => {
    let best: [string, number] | undefined;
    for (const e of carriers.get(j) ?? []) if (!best || e[1] > best[1]) best = e;
    const v = best && byId.get(best[0]);
    if (!best || !v) return null;
    return {
      id: v.id,
      origin: originText(v),
      originCorrect: v.origin !== null && names(v.origin, f.service),
      openedAfterS: (v.openedAt - f.at) / 1000,
      spans: best[1],
      tagged: tagged.get(j) ?? 0,
    };
  };
  const rows: FaultIncidents[] = latency.map((f) => {
    const mine = incidents.filter(
      (v) => v.openedAt >= f.at && v.openedAt < f.at + FAULT_MS && touches(v, f.service),
    );
    for (const v of mine) used.add(v.id);
    const first = mine[0];
    const o = first?.origin;
    const correct = o === undefined || o === null ? null : names(o, f.service);
    const slow = firstSlow.get(faults.indexOf(f));
    const notified = first ? run.notifiedAt.get(first.id) : undefined;
    return {
      at: new Date(f.at).toISOString().slice(0, 19).replace('T', ' '),
      service: f.service,
      type: f.type,
      incidents: mine.length,
      ids: mine.map((v) => v.id),
      origin: first ? originText(first) : null,
      originCorrect: first ? correct === true : null,
      toIncidentS: first && slow !== undefined ? Math.max(0, (first.openedAt - slow) / 1000) : null,
      toNotificationS:
        notified !== undefined && slow !== undefined ? Math.max(0, (notified - slow) / 1000) : null,
      carried: carriedOf(f, faults.indexOf(f)),
    };
  });
  const carried = rows.filter((r) => r.carried !== null);
  const detected = rows.filter((r) => r.incidents > 0);
  const median = (pick: (r: FaultIncidents) => number | null) => medianOf(detected.map(pick));
  const others = incidents.filter((v) => !used.has(v.id));
  const unmatched = others.length;
  return {
    faults: rows,
    latencyFaults: latency.length,
    detected: detected.length,
    perDetectedFault:
      detected.length === 0 ? 0 : detected.reduce((n, r) => n + r.incidents, 0) / detected.length,
    originAccuracy:
      detected.length === 0 ? 0 : detected.filter((r) => r.originCorrect).length / detected.length,
    medianToIncidentS: median((r) => r.toIncidentS),
    medianToNotificationS: median((r) => r.toNotificationS),
    unmatched,
    unmatchedPerHour: hours > 0 ? unmatched / hours : 0,
    unmatchedKinds: classifyUnmatched(run, others, faults, originText),
    carried: carried.length,
    carriedRight: carried.filter((r) => r.carried!.originCorrect).length,
  };
}
