import { markdownTable, pct, unmatchedLine } from '../../src/detectors/anomaly/replay/format.js';
import {
  medianOf,
  type IncidentScoring,
} from '../../src/detectors/anomaly/replay/incident-score.js';
import { UNMATCHED_KINDS } from '../../src/detectors/anomaly/replay/unmatched.js';

/** Issue 13's figures on one replayed day (`replay/incident-score.ts`), as table cells. */
export function incidentRow(day: string, s: IncidentScoring): string[] {
  const right = s.faults.filter((f) => f.originCorrect === true).length;
  const secs = (v: number | null) => (v === null ? '-' : `${v.toFixed(0)} s`);
  return [
    day,
    String(s.latencyFaults),
    String(s.detected),
    s.perDetectedFault.toFixed(2),
    rightOf(right, s.latencyFaults, s.detected),
    secs(s.medianToIncidentS),
    secs(s.medianToNotificationS),
    `${s.unmatched} (${s.unmatchedPerHour.toFixed(1)} an hour)`,
    `${s.carriedRight} of ${s.latencyFaults} (${pct(s.carriedRight / s.latencyFaults, 0)})`,
  ];
}

/**
 * The issue's figure: faults whose first incident's origin is right, of all the latency faults
 * (a fault without an incident has no right origin), then of those with an incident.
 */
function rightOf(right: number, faults: number, detected: number): string {
  if (faults === 0) return '-';
  return `${right} of ${faults} (${pct(right / faults, 0)}); ${right} of ${detected} with one`;
}

/** The incidents table of `npm run bench:real`: one row per day, then the sum of the days. */
export function incidentTable(days: readonly { day: string; scoring: IncidentScoring }[]): string {
  const rows = days.map((d) => incidentRow(d.day, d.scoring));
  const all = days.map((d) => d.scoring);
  const faults = all.flatMap((s) => s.faults);
  const detected = faults.filter((f) => f.incidents > 0);
  const right = detected.filter((f) => f.originCorrect === true).length;
  const carried = all.reduce((n, s) => n + s.carriedRight, 0);
  const median = (xs: (number | null)[]) => {
    const m = medianOf(xs);
    return m === null ? '-' : `${m.toFixed(0)} s`;
  };
  rows.push([
    'all',
    String(faults.length),
    String(detected.length),
    detected.length === 0
      ? '0'
      : (detected.reduce((n, f) => n + f.incidents, 0) / detected.length).toFixed(2),
    rightOf(right, faults.length, detected.length),
    median(detected.map((f) => f.toIncidentS)),
    median(detected.map((f) => f.toNotificationS)),
    String(all.reduce((n, s) => n + s.unmatched, 0)),
    `${carried} of ${faults.length} (${pct(carried / faults.length, 0)})`,
  ]);
  return markdownTable(
    [
      'day',
      'latency faults',
      'with an incident',
      'incidents per such fault (<= 1.5)',
      'origin right, of the latency faults (>= 80%)',
      'to incident, median',
      'to notification, median',
      'incidents matching no fault',
      'beside: their tagged spans carry an incident naming the service',
    ],
    rows,
    false,
  );
}

/**
 * Beside the table: the incidents matching no fault, classified (`replay/unmatched.ts`), one row
 * per day then the sum; then each of them on a line: its class, what opened it, and how slow its
 * spans were against their operation's median.
 */
export function unmatchedTable(days: readonly { day: string; scoring: IncidentScoring }[]): string {
  const counts = (s: IncidentScoring) => UNMATCHED_KINDS.map((k) => s.unmatchedKinds.counts[k]);
  const rows = days.map((d) => [d.day, ...counts(d.scoring), d.scoring.unmatched].map(String));
  const sum = (k: number) => days.reduce((n, d) => n + counts(d.scoring)[k]!, 0);
  rows.push([
    'all',
    ...UNMATCHED_KINDS.map((_, k) => String(sum(k))),
    String(days.reduce((n, d) => n + d.scoring.unmatched, 0)),
  ]);
  const table = markdownTable(
    [
      'day',
      "(a) a non-latency fault's (its four minutes, its service)",
      '(b) aftermath: up to 8 min after an injection',
      '(c) the minute before an injection',
      '(d) none of these',
      'matching no fault',
    ],
    rows,
    false,
  );
  const each = days.flatMap((d) => d.scoring.unmatchedKinds.incidents.map(unmatchedLine));
  return each.length === 0
    ? table
    : `${table}\n\nEach of them:\n\n${each.map((l) => `- ${l}`).join('\n')}`;
}
