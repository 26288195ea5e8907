import type { IncidentChange } from '../../../src/detectors/anomaly/incidents/engine.js';
import type { IncidentView } from '../../../src/detectors/anomaly/incidents/incident.js';
import { medianOf } from '../../../src/detectors/anomaly/replay/incident-score.js';
import type { Fault, FaultKind, Schedule } from '../sim/faults.js';
import type { Fleet } from '../sim/fleet.js';
import { DAY, HOUR } from '../sim/seasonality.js';
import type { SimSpan } from '../sim/traffic.js';
import { truthOf } from './tally.js';

/** Faults that slow spans down: each should open one incident, named after its operation. */
const LATENCY: readonly FaultKind[] = ['step', 'drift', 'downstream', 'rush-at-night'];
/** After a fault ends, its operations may take this long to calm down (as in tally.ts). */
const CALM_DOWN_MS = HOUR;
/** The unit: incidents on clean traffic per simulated day per this many services. */
const PER_SERVICES = 15;

/**
 * What the `anomaly` processor's incidents did during a simulated run (issue 13): each incident as
 * last heard of, when its `opened` event went out (the notification `incident_notifier` sends at
 * once), and the end of each fault's first positive span that hourglass tagged.
 */
export class IncidentLog {
  readonly incidents = new Map<string, IncidentView>();
  readonly notifiedAt = new Map<string, number>();
  /** Per fault id: the end of its first positive span hourglass tagged. */
  readonly firstSlow = new Map<number, number>();

  constructor(private readonly now: () => number) {}

  /** The engine's listener. */
  readonly hear = (c: IncidentChange): void => {
    this.incidents.set(c.incident.id, c.incident);
    if (c.type === 'opened' && !this.notifiedAt.has(c.incident.id)) {
      this.notifiedAt.set(c.incident.id, this.now());
    }
  };

  span(s: SimSpan, severity: number): void {
    if (severity === 0 || s.fault < 0 || truthOf(s) !== 'positive') return;
    const end = s.startMs + s.durationMs;
    if (end < (this.firstSlow.get(s.fault) ?? Number.POSITIVE_INFINITY)) {
      this.firstSlow.set(s.fault, end);
    }
  }
}

export interface FaultIncidents {
  readonly fault: number;
  readonly kind: FaultKind;
  readonly service: string;
  readonly operation: string;
  /** Incidents opened while it lasted (or in the calm-down after) touching its service. */
  readonly incidents: number;
  /** Their ids, oldest first (incident-breakdown.ts reads why there is more than one). */
  readonly ids: readonly string[];
  /** The first one's origin names its service (the service, or the call edge into it). */
  readonly originService: boolean | null;
  /** ...and its operation. */
  readonly originOperation: boolean | null;
  readonly toIncidentS: number | null;
  readonly toNotificationS: number | null;
}

export interface IncidentFigures {
  readonly latencyFaults: number;
  /** Latency faults with at least one incident. */
  readonly detected: number;
  readonly perDetectedFault: number;
  readonly originRight: number;
  readonly medianToIncidentS: number | null;
  readonly medianToNotificationS: number | null;
  /** Incidents opened in the evaluation weeks away from every fault and its calm-down hour. */
  readonly clean: number;
  readonly cleanDays: number;
  /** `clean` per simulated day per 15 services (the target: at most 1). */
  readonly cleanPerDayPer15: number;
  /** Opened near a fault but matching none (another service, or before it). */
  readonly nearFaults: number;
  /** The ids of the `clean` ones (incident-breakdown.ts reads what opened them). */
  readonly cleanIds: readonly string[];
  readonly faults: FaultIncidents[];
}

/**
 * Scores the incidents of a run against its faults. An incident is a latency fault's when it
 * opened from the fault's start to an hour after its end and touches the faulted operation's
 * service or one of its callers' services. Its origin is right when it names the faulted
 * operation's service (the service, or the call edge into it), as `hourglass replay` scores real
 * faults (replay/incident-score.ts). Incidents opened in the evaluation weeks away from every
 * fault (of any kind) and its calm-down hour are the false ones: per simulated day of such clean
 * time, per 15 services.
 */
export function incidentFigures(
  log: IncidentLog,
  fleet: Fleet,
  schedule: Schedule,
  evalStart: number,
  end: number,
): IncidentFigures {
  const list = [...log.incidents.values()]
    .filter((v) => v.openedAt >= evalStart && v.openedAt < end)
    .sort((a, b) => a.openedAt - b.openedAt);
  const used = new Set<string>();
  const near = (v: IncidentView, f: Fault) =>
    v.openedAt >= f.from && v.openedAt < f.to + CALM_DOWN_MS;
  const rows: FaultIncidents[] = [];
  for (const f of schedule.faults) {
    if (!LATENCY.includes(f.kind)) continue;
    const op = fleet.ops[f.op]!;
    const services = new Set([
      op.service,
      ...fleet.callers[f.op]!.map((c) => fleet.ops[c]!.service),
    ]);
    const mine = list.filter(
      (v) =>
        near(v, f) &&
        !used.has(v.id) &&
        (v.services.some((s) => services.has(s.service)) ||
          (v.origin !== null && services.has(v.origin.peerService ?? v.origin.service))),
    );
    for (const v of mine) used.add(v.id);
    const first = mine[0];
    const o = first?.origin ?? null;
    const slow = log.firstSlow.get(f.id);
    const notified = first ? log.notifiedAt.get(first.id) : undefined;
    const names = o !== null && (o.service === op.service || o.peerService === op.service);
    rows.push({
      fault: f.id,
      kind: f.kind,
      service: op.service,
      operation: op.name,
      incidents: mine.length,
      ids: mine.map((v) => v.id),
      originService: first ? names : null,
      originOperation: first ? names && o.operation === op.name : null,
      toIncidentS: first && slow !== undefined ? Math.max(0, (first.openedAt - slow) / 1000) : null,
      toNotificationS:
        notified !== undefined && slow !== undefined ? Math.max(0, (notified - slow) / 1000) : null,
    });
  }
  const busy = schedule.faults.map((f) => [f.from, f.to + CALM_DOWN_MS] as const);
  const inBusy = (t: number) => busy.some(([a, b]) => t >= a && t < b);
  const cleanIds = list.filter((v) => !used.has(v.id) && !inBusy(v.openedAt)).map((v) => v.id);
  const clean = cleanIds.length;
  const nearFaults = list.filter((v) => !used.has(v.id) && inBusy(v.openedAt)).length;
  const cleanDays = (end - evalStart - busyMs(busy, evalStart, end)) / DAY;
  const services = new Set(fleet.ops.map((o) => o.service)).size;
  const detected = rows.filter((r) => r.incidents > 0);
  const median = (pick: (r: FaultIncidents) => number | null) => medianOf(detected.map(pick));
  return {
    latencyFaults: rows.length,
    detected: detected.length,
    perDetectedFault:
      detected.length === 0 ? 0 : detected.reduce((n, r) => n + r.incidents, 0) / detected.length,
    originRight: detected.filter((r) => r.originService).length,
    medianToIncidentS: median((r) => r.toIncidentS),
    medianToNotificationS: median((r) => r.toNotificationS),
    clean,
    cleanDays,
    cleanPerDayPer15: cleanDays > 0 ? (clean / cleanDays) * (PER_SERVICES / services) : 0,
    nearFaults,
    cleanIds,
    faults: rows,
  };
}

/** The time within [from, to) covered by the intervals (their union). */
function busyMs(intervals: readonly (readonly [number, number])[], from: number, to: number) {
  const sorted = intervals
    .map(([a, b]) => [Math.max(a, from), Math.min(b, to)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let at = from;
  for (const [a, b] of sorted) {
    const s = Math.max(a, at);
    if (b > s) total += b - s;
    at = Math.max(at, b);
  }
  return total;
}

const secs = (s: number | null) => (s === null ? '-' : `${s.toFixed(0)} s`);

/** One row per seed of the incidents table. */
function seedRow(seed: string | number, f: IncidentFigures): string[] {
  return [
    String(seed),
    `${f.clean} in ${f.cleanDays.toFixed(1)} d: ${f.cleanPerDayPer15.toFixed(2)}`,
    `${f.detected} of ${f.latencyFaults}`,
    f.perDetectedFault.toFixed(2),
    `${f.originRight} of ${f.detected}`,
    secs(f.medianToIncidentS),
    secs(f.medianToNotificationS),
    String(f.nearFaults),
  ];
}

/** The incidents table of `npm run bench:detection`: one row per seed. */
export function incidentTable(
  seeds: readonly { seed: string | number; incidents: IncidentFigures }[],
) {
  const rows = seeds.map((r) => seedRow(r.seed, r.incidents));
  return [HEAD, HEAD.map((_, i) => (i === 0 ? '---' : '---:')), ...rows]
    .map((r) => `| ${r.join(' | ')} |`)
    .join('\n');
}

const HEAD = [
  'seed',
  'incidents on clean traffic, per day per 15 services (<= 1)',
  'latency faults with an incident',
  'incidents per such fault (<= 1.5)',
  'origin names the faulted service',
  'first slow span to incident, median',
  'to notification, median',
  'near a fault, matching none',
];
