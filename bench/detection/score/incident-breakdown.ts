import { medianOf } from '../../../src/detectors/anomaly/replay/incident-score.js';
import { openingRule } from '../../../src/detectors/anomaly/replay/unmatched.js';
import type { IncidentFigures, IncidentLog } from './incidents.js';

/**
 * Why the simulator's incidents are too many (issue 13): which rule opened each incident on clean
 * traffic, how severe and how long it was, and, for a fault with more than one incident, how the
 * next one came (after the previous one resolved, on the same origin or another). Deterministic:
 * read from the incidents as last heard of.
 */

export interface IncidentLine {
  readonly id: string;
  readonly rule: string;
  readonly openedSeverity: number;
  readonly severity: number;
  readonly openedAt: number;
  /** Minutes from opening to resolving; null while open at the end of the run. */
  readonly minutes: number | null;
  readonly spans: number;
  readonly traces: number;
  readonly origin: string;
  /** Minutes since an earlier incident with the same origin (service, operation, edge) resolved. */
  readonly afterSameOriginMin: number | null;
  /** Minutes since an earlier incident whose origin names the same service resolved. */
  readonly afterSameServiceMin: number | null;
}

export interface RuleRow {
  readonly rule: string;
  readonly incidents: number;
  /** Incidents by severity at opening, SEV1 .. SEV5. */
  readonly openedAs: readonly number[];
  readonly medianMinutes: number | null;
  readonly medianSpans: number | null;
  /** Of them, opened within `REOPEN_MIN` of the resolution of one with the same origin. */
  readonly soonAfterSameOrigin: number;
  /** ... of one whose origin names the same service. */
  readonly soonAfterSameService: number;
}

export interface FaultLines {
  readonly fault: number;
  readonly kind: string;
  readonly target: string;
  readonly from: number;
  readonly incidents: readonly IncidentLine[];
}

export interface IncidentBreakdown {
  readonly clean: readonly RuleRow[];
  readonly cleanIncidents: readonly IncidentLine[];
  /** The clean incidents' origins, most frequent first. */
  readonly cleanOrigins: readonly { readonly origin: string; readonly incidents: number }[];
  readonly faults: readonly FaultLines[];
  /** The second and later incidents of the faults: how they came. */
  readonly repeats: {
    readonly count: number;
    /** Opened within `REOPEN_MIN` of the resolution of one with the same origin. */
    readonly soonAfterSameOrigin: number;
    readonly soonAfterSameService: number;
    /** Opened while an earlier incident of the same fault was still open. */
    readonly whilePreviousOpen: number;
    readonly medianGapMin: number | null;
  };
}

/** "Soon after": the hold a reopening rule would need to take these in. */
export const REOPEN_MIN = 30;

export function incidentBreakdown(
  log: IncidentLog,
  figures: IncidentFigures,
  describe: (fault: number) => { kind: string; target: string; from: number },
): IncidentBreakdown {
  const all = [...log.incidents.values()].sort((a, b) => a.openedAt - b.openedAt);
  const lines = new Map<string, IncidentLine>();
  const lastByOrigin = new Map<string, number>();
  const lastByService = new Map<string, number>();
  for (const v of all) {
    const o = v.origin;
    const originKey = o ? `${o.service}\u0000${o.operation}\u0000${o.peerService ?? ''}` : '-';
    const named = o ? [o.service, ...(o.peerService ? [o.peerService] : [])] : [];
    const since = (at: number | undefined) =>
      at === undefined || at > v.openedAt ? null : (v.openedAt - at) / 60_000;
    let sameService: number | null = null;
    for (const s of named) {
      const gap = since(lastByService.get(s));
      if (gap !== null && (sameService === null || gap < sameService)) sameService = gap;
    }
    lines.set(v.id, {
      id: v.id,
      rule: openingRule(v),
      openedSeverity: v.timeline[0]?.severity ?? v.severity,
      severity: v.severity,
      openedAt: v.openedAt,
      minutes: v.resolvedAt === null ? null : (v.resolvedAt - v.openedAt) / 60_000,
      spans: v.spans,
      traces: v.samples.length,
      origin: o
        ? o.peerService
          ? `${o.service} → ${o.peerService} (${o.operation})`
          : `${o.service} ${o.operation}`
        : '-',
      afterSameOriginMin: o ? since(lastByOrigin.get(originKey)) : null,
      afterSameServiceMin: sameService,
    });
    // Incidents open at the end count as resolved then (none follows them).
    const end = v.resolvedAt ?? Number.POSITIVE_INFINITY;
    if (o) {
      lastByOrigin.set(originKey, end);
      for (const s of named) lastByService.set(s, end);
    }
  }
  const soon = (gap: number | null) => gap !== null && gap <= REOPEN_MIN;
  const cleanIncidents = figures.cleanIds.map((id) => lines.get(id)!);
  const rules = [...new Set(cleanIncidents.map((l) => l.rule))].sort();
  const clean = rules.map((rule): RuleRow => {
    const ls = cleanIncidents.filter((l) => l.rule === rule);
    return {
      rule,
      incidents: ls.length,
      openedAs: [1, 2, 3, 4, 5].map((s) => ls.filter((l) => l.openedSeverity === s).length),
      medianMinutes: medianOf(ls.map((l) => l.minutes)),
      medianSpans: medianOf(ls.map((l) => l.spans)),
      soonAfterSameOrigin: ls.filter((l) => soon(l.afterSameOriginMin)).length,
      soonAfterSameService: ls.filter((l) => soon(l.afterSameServiceMin)).length,
    };
  });
  const faults = figures.faults
    .filter((f) => f.ids.length > 0)
    .map((f): FaultLines => ({
      fault: f.fault,
      ...describe(f.fault),
      incidents: f.ids.map((id) => lines.get(id)!),
    }));
  const repeats: IncidentLine[] = [];
  let whilePreviousOpen = 0;
  const gaps: number[] = [];
  for (const f of faults) {
    for (let k = 1; k < f.incidents.length; k++) {
      const l = f.incidents[k]!;
      repeats.push(l);
      let lastEnd = Number.NEGATIVE_INFINITY;
      for (const p of f.incidents.slice(0, k)) {
        const end = p.minutes === null ? Number.POSITIVE_INFINITY : p.openedAt + p.minutes * 60_000;
        lastEnd = Math.max(lastEnd, end);
      }
      if (lastEnd > l.openedAt) whilePreviousOpen++;
      else gaps.push((l.openedAt - lastEnd) / 60_000);
    }
  }
  const byOrigin = new Map<string, number>();
  for (const l of cleanIncidents) byOrigin.set(l.origin, (byOrigin.get(l.origin) ?? 0) + 1);
  return {
    clean,
    cleanIncidents,
    cleanOrigins: [...byOrigin]
      .map(([origin, incidents]) => ({ origin, incidents }))
      .sort((a, b) => b.incidents - a.incidents || a.origin.localeCompare(b.origin)),
    faults,
    repeats: {
      count: repeats.length,
      soonAfterSameOrigin: repeats.filter((l) => soon(l.afterSameOriginMin)).length,
      soonAfterSameService: repeats.filter((l) => soon(l.afterSameServiceMin)).length,
      whilePreviousOpen,
      medianGapMin: medianOf(gaps),
    },
  };
}

const min = (m: number | null) => (m === null ? '-' : `${m.toFixed(1)} min`);

function table(head: string[], rows: string[][]): string {
  const align = head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The breakdown as Markdown: the clean incidents by rule, then each fault's incidents. */
export function breakdownReport(seed: string | number, b: IncidentBreakdown): string {
  const out: string[] = [];
  out.push(`### seed ${seed}: incidents on clean traffic, by the rule that opened them\n`);
  out.push(
    table(
      [
        'opened by',
        'incidents',
        'opened as SEV1 / 2 / 3',
        'lasted, median',
        'spans, median',
        `within ${REOPEN_MIN} min of one with the same origin resolving`,
        '... naming the same service',
      ],
      b.clean.map((r) => [
        r.rule,
        String(r.incidents),
        r.openedAs.slice(0, 3).join(' / '),
        min(r.medianMinutes),
        r.medianSpans === null ? '-' : String(r.medianSpans),
        String(r.soonAfterSameOrigin),
        String(r.soonAfterSameService),
      ]),
    ),
  );
  out.push(
    `\nTheir origins: ${b.cleanOrigins.map((o) => `${o.origin} (${o.incidents})`).join(', ')}`,
  );
  const r = b.repeats;
  out.push(
    `\nFaults' second and later incidents: ${r.count}; opened while an earlier one of the fault was open: ${r.whilePreviousOpen}; after it resolved, median gap ${min(r.medianGapMin)}; within ${REOPEN_MIN} min of one with the same origin resolving: ${r.soonAfterSameOrigin}, naming the same service: ${r.soonAfterSameService}\n`,
  );
  for (const f of b.faults) {
    out.push(`- fault ${f.fault} (${f.kind}, ${f.target}):`);
    for (const l of f.incidents) {
      out.push(
        `  - +${((l.openedAt - f.from) / 60_000).toFixed(1)} min, ${l.rule}, SEV${l.openedSeverity} -> SEV${l.severity}, ${min(l.minutes)}, ${l.spans} spans, origin ${l.origin}; after same origin ${min(l.afterSameOriginMin)}, same service ${min(l.afterSameServiceMin)}`,
      );
    }
  }
  return out.join('\n');
}
