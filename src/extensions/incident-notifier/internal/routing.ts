import type { IncidentView } from '../../../detectors/anomaly/contract.js';
import type { IncidentNotifierConfig } from '../config.js';

/** The receivers whose routes take this incident as it is now (its severity and services). */
export function receiversFor(
  routes: IncidentNotifierConfig['routes'],
  i: IncidentView,
): Set<string> {
  const out = new Set<string>();
  for (const r of routes) {
    if (i.severity > r.min_severity) continue;
    if (r.services && !r.services.some((s) => affects(i, s))) continue;
    for (const name of r.receivers) out.add(name);
  }
  return out;
}

function affects(i: IncidentView, service: string): boolean {
  return (
    i.origin?.service === service ||
    i.origin?.peerService === service ||
    i.services.some((s) => s.service === service)
  );
}
