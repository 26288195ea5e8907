import type { IncidentState, IncidentView, Origin } from './incident.js';

const MAX_LISTED = 50;
const MAX_SAMPLES = 5;

/**
 * A fleet incident from its parts (one per instance that tagged spans of it, fleet-incidents.ts):
 * counts summed, the worst severity, the earliest opening, the most blamed origin over all parts'
 * evidence. Open while one part is open and live: a part whose instance stopped writing it (an
 * instance gone) counts as resolved once `fresh` says its last change is too old.
 */
export function mergeParts(
  parts: readonly IncidentState[],
  fresh: (p: IncidentState) => boolean,
): IncidentView {
  const first = parts.reduce((a, b) => (b.openedAt < a.openedAt ? b : a));
  if (parts.length === 1 && (first.status === 'resolved' || fresh(first))) {
    return viewOf(first);
  }
  const open = parts.some((p) => p.status === 'open' && fresh(p));
  const services = new Map<string, number>();
  const operations = new Map<string, { service: string; operation: string; count: number }>();
  const origins = new Map<string, { origin: Origin; weight: number }>();
  const samples = new Map<string, { traceId: string; spanId: string }>();
  const points: { at: number; severity: number }[] = [];
  let severity = 5;
  let updatedAt = 0;
  let resolvedAt = 0;
  let spans = 0;
  let summary: IncidentView['summary'] = null;
  for (const p of [...parts].sort((a, b) => a.openedAt - b.openedAt)) {
    severity = Math.min(severity, p.severity);
    updatedAt = Math.max(updatedAt, p.updatedAt);
    resolvedAt = Math.max(resolvedAt, p.resolvedAt ?? p.updatedAt);
    spans += p.spans;
    summary ??= p.summary;
    for (const s of p.services) services.set(s.service, (services.get(s.service) ?? 0) + s.count);
    for (const o of p.operations) {
      const k = `${o.service}\u0000${o.operation}`;
      const had = operations.get(k);
      if (had) had.count += o.count;
      else operations.set(k, { ...o });
    }
    for (const o of p.origins ?? []) {
      const k = `${o.origin.service}\u0000${o.origin.operation}\u0000${o.origin.peerService ?? ''}`;
      const had = origins.get(k);
      if (had) had.weight += o.weight;
      else origins.set(k, { origin: o.origin, weight: o.weight });
    }
    for (const s of p.samples) {
      if (samples.size < MAX_SAMPLES && !samples.has(s.traceId)) samples.set(s.traceId, s);
    }
    points.push(...p.timeline);
  }
  let origin: Origin | null = first.origin;
  let best = -1;
  for (const o of origins.values()) {
    if (o.weight > best) {
      best = o.weight;
      origin = o.origin;
    }
  }
  // The timeline: each time the fleet's incident got worse.
  const timeline: { at: number; severity: number }[] = [];
  for (const t of points.sort((a, b) => a.at - b.at)) {
    if (timeline.length === 0 || t.severity < timeline[timeline.length - 1]!.severity) {
      timeline.push({ at: t.at, severity: t.severity });
    }
  }
  const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
  return {
    id: first.id,
    status: open ? 'open' : 'resolved',
    severity,
    openedAt: first.openedAt,
    updatedAt,
    resolvedAt: open ? null : resolvedAt,
    reason: first.reason,
    origin,
    services: [...services]
      .map(([service, count]) => ({ service, count }))
      .sort(byCount)
      .slice(0, MAX_LISTED),
    operations: [...operations.values()].sort(byCount).slice(0, MAX_LISTED),
    timeline,
    samples: [...samples.values()],
    summary,
    spans,
  };
}

/** The stored state without what only the engine needs. */
export function viewOf(s: IncidentState): IncidentView {
  const view: Record<string, unknown> = { ...s };
  delete view['lastSeen'];
  delete view['originSeen'];
  delete view['tagEnd'];
  delete view['blameUntil'];
  delete view['hold'];
  delete view['origins'];
  return view as unknown as IncidentView;
}
