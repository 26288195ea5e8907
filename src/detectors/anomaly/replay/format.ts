import type { IncidentView } from '../incidents/incident.js';
import { originText, type CarriedIncident, type IncidentScoring } from './incident-score.js';
import type { Scoring } from './score.js';
import type { TagSummary } from './tag-runs.js';
import type { TenfoldClass } from './tenfold.js';
import type { UnmatchedBreakdown, UnmatchedIncident } from './unmatched.js';

/** Markdown tables (they read in a terminal and paste into a README); numbers right-aligned. */
export function markdownTable(head: string[], rows: string[][], right = true): string {
  const align = head.map((_, i) => (i === 0 || !right ? '---' : '---:'));
  return [head, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)}%`;
const f3 = (x: number) => x.toFixed(3);
const time = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const secs = (s: number | null) => (s === null ? '-' : `${s.toFixed(0)} s`);
/** Severity labels by number (index 0: untagged). */
export const SEV = ['', 'SEV1', 'SEV2', 'SEV3', 'SEV4', 'SEV5'];
const CLASS_NAMES: readonly (readonly [TenfoldClass, string])[] = [
  ['required', 'required'],
  ['youngKey', '10x on keys with less history'],
  ['usual', '10x on keys whose history shows them'],
  ['under', 'under 10x'],
];

/** What was tagged: per severity, then the runs of tags (at most `limit`, most severe first). */
export function formatTags(s: TagSummary, limit: number): string {
  const tagged = s.bySeverity.slice(1).reduce((a, b) => a + b, 0);
  const out = [
    `tagged ${tagged} of ${s.spans} spans (${pct(tagged / Math.max(1, s.spans))}): ${[1, 2, 3, 4, 5]
      .map((n) => `${SEV[n]} ${s.bySeverity[n]}`)
      .join(', ')}`,
  ];
  if (s.runs.length === 0) return out.join('\n');
  const worst = (r: TagSummary['runs'][number]) => r.bySeverity.findIndex((c, i) => i > 0 && c > 0);
  const shown = [...s.runs]
    .sort((a, b) => worst(a) - worst(b) || b.tags - a.tags)
    .slice(0, limit)
    .sort((a, b) => a.first - b.first);
  out.push(
    `\n${s.runs.length} runs of tags (tags of one operation less than a minute apart)${s.runs.length > shown.length ? `; the ${shown.length} most severe` : ''}:\n`,
  );
  out.push(
    markdownTable(
      [
        'first tag (UTC)',
        'last tag',
        'service',
        'operation',
        'worst',
        'tags',
        'of spans',
        'SEV1..5',
      ],
      shown.map((r) => [
        time(r.first),
        time(r.last).slice(11),
        r.service,
        r.operation,
        SEV[worst(r)]!,
        String(r.tags),
        String(r.spans),
        r.bySeverity.slice(1).join('/'),
      ]),
      false,
    ),
  );
  return out.join('\n');
}

/** The scores against the fault list, and the references on the same stream. */
export function formatScoring(s: Scoring): string {
  const out: string[] = [];
  const l = s.spans.leftOut;
  out.push(
    `positives ${s.spans.positive}, negatives ${s.spans.negative}; left out: ${l.near} near another injection, ${l.pod} on an injected pod, ${l.callers} up the trace from it (${s.hours.toFixed(2)} h of traffic)\n`,
  );
  out.push(
    markdownTable(
      ['detector', 'precision', 'recall', 'F1', 'negatives flagged'],
      [
        ...s.hourglass.cuts.map((c, i) => [
          `hourglass SEV<=${c.cut}`,
          f3(c.precision),
          f3(c.recall),
          f3(c.f1),
          pct(s.hourglass.negativeShares[i]!, 3),
        ]),
        ...[...s.sigma, ...s.ewma].map((r) => [
          r.name,
          f3(r.precision),
          f3(r.recall),
          f3(r.f1),
          pct(r.negativeRate, 3),
        ]),
      ],
    ),
  );
  const a = s.atHourglassRate;
  out.push(
    `\nAt hourglass's SEV<=3 false-alarm rate (${pct(a.negativeRate, 3)} of negatives), mean + k sigma needs k = ${a.k.toFixed(1)}: recall ${f3(a.ruleRecall)} against hourglass's ${f3(a.hourglassRecall)}.\n`,
  );
  out.push('Latency faults (time: from the injection to the end of the span):\n');
  out.push(
    markdownTable(
      [
        'injected (UTC)',
        'pod',
        'type',
        'positives',
        'SEV<=2 / <=3 / <=5',
        'first positive',
        'first SEV<=2',
        'first SEV<=3',
        'first 3 sigma',
      ],
      s.faults.map((f) => [
        f.at.slice(0, 19).replace('T', ' '),
        f.pod,
        f.type,
        String(f.positives),
        f.positives === 0 ? '-' : [1, 2, 4].map((k) => pct(f.recall[k]!, 1)).join(' / '),
        secs(f.firstPositiveS),
        secs(f.firstTagS[1]!),
        secs(f.firstTagS[2]!),
        secs(f.firstSigma3S),
      ]),
      false,
    ),
  );
  const t = s.tenfold;
  const req = t.required.reduce((a, b) => a + b, 0);
  const hit = t.required[1]! + t.required[2]! + t.required[3]!;
  out.push(
    `\nSpans 10x their operation's median at that hour, on keys with 200 spans of history that show such spans less than once in a thousand: ${req}; tagged SEV<=3 ${hit} (${pct(hit / Math.max(1, req), 1)}), SEV4/5 ${t.required[4]! + t.required[5]!}, untagged ${t.required[0]}; the 3-sigma rule flags ${t.sigma3}. Not required: ${t.youngKey} on keys with less history, ${t.usual} on keys whose history shows them.`,
  );
  const classText = CLASS_NAMES.flatMap(([c, name]) => {
    const v = t.classes[c];
    return v
      ? [
          `${name}: ${v.positivesTagged} of ${v.positives} positives, ${v.negativesTagged} of ${v.negatives} negatives`,
        ]
      : [];
  });
  if (classText.length > 0) {
    out.push(`Tagged SEV<=3, by those classes: ${classText.join('; ')}.`);
  }
  const missed = t.byKey.filter((k) => k.missed > 0).slice(0, 8);
  if (missed.length > 0) {
    out.push(`Most missed: ${missed.map((k) => `${k.key} ${k.missed}/${k.required}`).join('; ')}`);
  }
  out.push(`\n${formatIncidentScoring(s.incidents)}`);
  return out.join('\n');
}

/** The incidents a replay opened (at most `limit`, in order). */
export function formatIncidents(list: readonly IncidentView[], limit: number): string {
  if (list.length === 0) return 'no incident opened';
  const shown = [...list].sort((a, b) => a.openedAt - b.openedAt).slice(0, limit);
  return [
    `${list.length} incident${list.length === 1 ? '' : 's'} opened${list.length > shown.length ? `; the first ${shown.length}` : ''}:\n`,
    markdownTable(
      ['opened (UTC)', 'resolved', 'severity', 'origin', 'services', 'spans'],
      shown.map((v) => [
        time(v.openedAt),
        v.resolvedAt === null ? 'open' : time(v.resolvedAt).slice(11),
        SEV[v.severity]!,
        originText(v),
        v.services.map((x) => x.service).join(', '),
        String(v.spans),
      ]),
      false,
    ),
  ].join('\n');
}

function formatIncidentScoring(s: IncidentScoring): string {
  const out = [
    `Incidents: ${s.detected} of ${s.latencyFaults} latency faults opened one; ${s.perDetectedFault.toFixed(2)} incidents per such fault; origin right for ${pct(s.originAccuracy, 0)} of them; first slow span to incident, median ${secs(s.medianToIncidentS)}, to its notification ${secs(s.medianToNotificationS)}; ${s.unmatched} incidents matched no fault (${s.unmatchedPerHour.toFixed(2)} an hour). Origin right: ${s.faults.filter((f) => f.originCorrect === true).length} of the ${s.latencyFaults} latency faults (strict: the first incident opened within the fault's four minutes); beside it, ${s.carriedRight} of ${s.latencyFaults} when read from the incident their tagged spans carry, whenever it opened.\n`,
  ];
  const list = s.unmatchedKinds.incidents;
  out.push(
    `Matching no fault, classified (unmatched.ts): ${unmatchedText(s.unmatchedKinds)}.\n`,
    ...list.map((u, k) => `- ${unmatchedLine(u)}${k === list.length - 1 ? '\n' : ''}`),
  );
  out.push(
    markdownTable(
      [
        'injected (UTC)',
        'service',
        'fault',
        'incidents',
        'origin of the first',
        'right',
        'to incident',
        'to notification',
        'carried by its tagged positives (beside)',
      ],
      s.faults.map((f) => [
        f.at,
        f.service,
        f.type,
        String(f.incidents),
        f.origin ?? '-',
        f.originCorrect === null ? '-' : f.originCorrect ? 'yes' : 'no',
        secs(f.toIncidentS),
        secs(f.toNotificationS),
        carriedText(f.carried),
      ]),
      false,
    ),
  );
  return out.join('\n');
}

/** `origin (right), opened 35 s before, 61 of 80 tagged`, or `-`. */
export function carriedText(c: CarriedIncident | null): string {
  if (!c) return '-';
  const when =
    c.openedAfterS < 0
      ? `opened ${(-c.openedAfterS).toFixed(0)} s before the injection`
      : `opened ${c.openedAfterS.toFixed(0)} s after`;
  return `${c.origin} (${c.originCorrect ? 'right' : 'wrong'}), ${when}, on ${c.spans} of ${c.tagged} tagged`;
}

/** The classes of the incidents matching no fault, as `2 a non-latency fault's, 20 ...`. */
export function unmatchedText(b: UnmatchedBreakdown): string {
  const c = b.counts;
  return `${c.other_fault} a non-latency fault's (within its four minutes, touching its service), ${c.aftermath} in the aftermath of an injection (up to eight minutes after it), ${c.before} in the minute before one, ${c.none} none of these`;
}

/** Each class's name in the lines (the letters of issue 13's stop 30). */
const KIND_NAMES = {
  other_fault: "(a) a non-latency fault's",
  aftermath: '(b) aftermath',
  before: '(c) the minute before',
  none: '(d) none of these',
} as const;

/**
 * One of them: `(b) aftermath: 2022-08-22 04:01:21 SEV1 span, productcatalogservice GetProduct,
 * 25 spans at 14.7x their medians (max 3033.2x); 447 s after frontend cpu_contention, 46 s before
 * the next injection`.
 */
export function unmatchedLine(u: UnmatchedIncident): string {
  const slower = u.slowerBy
    ? ` at ${u.slowerBy.median.toFixed(1)}x their medians (max ${u.slowerBy.max.toFixed(1)}x)`
    : '';
  const fault =
    u.fault && u.afterInjectionS !== null
      ? u.afterInjectionS < 0
        ? `; ${(-u.afterInjectionS).toFixed(0)} s before ${u.fault.service} ${u.fault.type}`
        : `; ${u.afterInjectionS.toFixed(0)} s after ${u.fault.service} ${u.fault.type}`
      : '';
  const next =
    u.nextInjectionS !== null && u.kind !== 'before'
      ? `, ${u.nextInjectionS.toFixed(0)} s before the next injection`
      : '';
  return `${KIND_NAMES[u.kind]}: ${time(u.openedAt)} ${u.rule}, ${u.origin}, ${u.spans} spans${slower}${fault}${next}`;
}
