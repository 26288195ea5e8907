import type { IncidentView } from '../../src/detectors/anomaly/incidents/incident.js';
import { carriedText } from '../../src/detectors/anomaly/replay/format.js';
import { originText } from '../../src/detectors/anomaly/replay/incident-score.js';
import { FAULT_MS } from '../../src/detectors/anomaly/replay/protocol.js';
import type { Scoring } from '../../src/detectors/anomaly/replay/score.js';
import { openingRule } from '../../src/detectors/anomaly/replay/unmatched.js';

/**
 * Why a latency fault got no incident of its own (issue 13): nothing of it in the files; nothing
 * of it tagged SEV<=3 (the detector's); an incident that was already open when it was injected and
 * touches its service (its spans join that one, which opened before the fault: the scoring counts
 * it for no fault); or tags that met no opening rule (the engine's). Deterministic, read from the
 * replay's scoring and its incidents as they were at the end.
 */
export function whyMissed(
  scoring: Scoring,
  incidents: readonly IncidentView[],
  shiftMs: number,
): string[] {
  const out: string[] = [];
  for (const [k, row] of scoring.incidents.faults.entries()) {
    if (row.incidents > 0) continue;
    const f = scoring.faults[k]!;
    const at = Date.parse(f.at) + shiftMs;
    const tagged = f.recall.map((r) => Math.round(r * f.positives));
    const name = `${row.at.slice(11)} ${row.service} ${row.type}`;
    if (f.positives === 0) {
      out.push(`${name}: no positive span in the files`);
      continue;
    }
    const counts = `${f.positives} positives, tagged SEV<=1/2/3/5: ${tagged[0]}/${tagged[1]}/${tagged[2]}/${tagged[4]}`;
    const open = incidents.filter(
      (v) =>
        v.openedAt < at &&
        (v.resolvedAt === null || v.resolvedAt >= at) &&
        (v.origin?.service === row.service ||
          v.origin?.peerService === row.service ||
          v.services.some((s) => s.service === row.service)),
    );
    const carried = row.carried ? `; its tagged spans carry ${carriedText(row.carried)}` : '';
    if (open.length > 0) {
      const v = open[0]!;
      const lasted = ((v.resolvedAt ?? at + FAULT_MS) - v.openedAt) / 60_000;
      out.push(
        `${name}: ${counts}; joined an incident open ${((at - v.openedAt) / 1000).toFixed(0)} s before the injection (${openingRule(v)}, ${originText(v)}, ${v.spans} spans, ${lasted.toFixed(1)} min)${carried}`,
      );
    } else if (tagged[2] === 0) {
      out.push(`${name}: ${counts}; nothing SEV<=3 (the detector)${carried}`);
    } else {
      out.push(`${name}: ${counts}; no opening rule met${carried}`);
    }
  }
  return out;
}
