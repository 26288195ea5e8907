import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { markdownTable, pct, SEV } from './format.js';
import type { ReplayRun } from './replay.js';
import { faultsTaggedWithin, type Scoring } from './score.js';

/** One operation whose spans the two configs tagged differently. */
export interface OperationChange {
  readonly service: string;
  readonly operation: string;
  readonly spans: number;
  /** Spans tagged (any severity) and tagged SEV<=3, by this config and by the other. */
  readonly tagged: readonly [number, number];
  readonly sev3: readonly [number, number];
  /** Spans whose severity differs (tagged by one only, or at another severity). */
  readonly changed: number;
}

/** What two configs made of the same spans: this run's (`a`) against the other's (`b`). */
export interface Comparison {
  readonly spans: number;
  /** Spans per severity (index 0: untagged, 1..5: SEV1..SEV5), this config's and the other's. */
  readonly bySeverity: readonly [number[], number[]];
  /** Spans tagged by this config only, by the other only, by both at another severity. */
  readonly onlyHere: number;
  readonly onlyThere: number;
  readonly otherSeverity: number;
  /** The operations tagged differently, most changed spans first. */
  readonly operations: OperationChange[];
  /** Incidents each opened. */
  readonly incidents: readonly [number, number];
}

/** Compares two replays of the same files (same stream, the spans in the same order). */
export function compareRuns(a: ReplayRun, b: ReplayRun): Comparison {
  const t = a.stream.table;
  if (b.stream.table.count !== t.count) throw new Error('the two replays read different spans');
  const bySeverity: [number[], number[]] = [
    [0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
  ];
  let onlyHere = 0;
  let onlyThere = 0;
  let otherSeverity = 0;
  const perKey = new Map<
    number,
    { spans: number; tagged: number[]; sev3: number[]; changed: number }
  >();
  for (let i = 0; i < t.count; i++) {
    const x = a.severity[i]!;
    const y = b.severity[i]!;
    bySeverity[0][x]!++;
    bySeverity[1][y]!++;
    const key = t.key[i]!;
    let k = perKey.get(key);
    if (!k) perKey.set(key, (k = { spans: 0, tagged: [0, 0], sev3: [0, 0], changed: 0 }));
    k.spans++;
    if (x !== 0) k.tagged[0]!++;
    if (y !== 0) k.tagged[1]!++;
    if (x !== 0 && x <= 3) k.sev3[0]!++;
    if (y !== 0 && y <= 3) k.sev3[1]!++;
    if (x === y) continue;
    k.changed++;
    if (y === 0) onlyHere++;
    else if (x === 0) onlyThere++;
    else otherSeverity++;
  }
  const operations: OperationChange[] = [];
  for (const [key, k] of perKey) {
    if (k.changed === 0) continue;
    const { service, name } = t.keys[key]!;
    operations.push({
      service,
      operation: name,
      spans: k.spans,
      tagged: [k.tagged[0]!, k.tagged[1]!],
      sev3: [k.sev3[0]!, k.sev3[1]!],
      changed: k.changed,
    });
  }
  operations.sort(
    (p, q) =>
      q.changed - p.changed ||
      p.service.localeCompare(q.service) ||
      p.operation.localeCompare(q.operation),
  );
  return {
    spans: t.count,
    bySeverity,
    onlyHere,
    onlyThere,
    otherSeverity,
    operations,
    incidents: [a.incidents.length, b.incidents.length],
  };
}

/**
 * The comparison as text: spans per severity side by side, how many changed, the `limit`
 * operations that changed most, and with a fault list the issue's headline figures of each.
 */
export function formatComparison(
  c: Comparison,
  names: readonly [string, string],
  limit: number,
  scoring?: readonly [Scoring, Scoring],
): string {
  const [here, there] = names;
  const changed = c.onlyHere + c.onlyThere + c.otherSeverity;
  const out = [
    markdownTable(
      ['spans', here, there],
      [1, 2, 3, 4, 5, 0].map((s) => [
        SEV[s] || 'untagged',
        String(c.bySeverity[0][s]),
        String(c.bySeverity[1][s]),
      ]),
    ),
    `\n${changed} of ${c.spans} spans tagged differently (${pct(changed / Math.max(1, c.spans))}): ${c.onlyHere} tagged by ${here} only, ${c.onlyThere} by ${there} only, ${c.otherSeverity} at another severity; incidents opened: ${c.incidents[0]} and ${c.incidents[1]}`,
  ];
  if (c.operations.length > 0) {
    const shown = c.operations.slice(0, limit);
    out.push(
      `\n${c.operations.length} operation${c.operations.length === 1 ? '' : 's'} tagged differently${c.operations.length > shown.length ? `; the ${shown.length} with most spans changed` : ''}:\n`,
    );
    out.push(
      markdownTable(
        ['service', 'operation', 'spans', `tagged (${here} / ${there})`, 'SEV<=3', 'changed'],
        shown.map((o) => [
          o.service,
          o.operation,
          String(o.spans),
          `${o.tagged[0]} / ${o.tagged[1]}`,
          `${o.sev3[0]} / ${o.sev3[1]}`,
          String(o.changed),
        ]),
        false,
      ),
    );
  }
  if (scoring) out.push(`\nagainst the fault list:\n\n${formatFigures(scoring, names)}`);
  return out.join('\n');
}

/** The headline figures of two scorings of the same files, side by side. */
function formatFigures(s: readonly [Scoring, Scoring], names: readonly [string, string]): string {
  const row = (name: string, f: (x: Scoring) => string) => [name, f(s[0]), f(s[1])];
  const within = (x: Scoring) => {
    const w = faultsTaggedWithin(x, 30);
    return `${w.tagged} of ${w.covered.length}`;
  };
  return markdownTable(
    ['figure', names[0], names[1]],
    [
      row('precision at SEV<=3', (x) => x.hourglass.cuts[2]!.precision.toFixed(3)),
      row('recall at SEV<=3', (x) => x.hourglass.cuts[2]!.recall.toFixed(3)),
      row('F1 at SEV<=3', (x) => x.hourglass.cuts[2]!.f1.toFixed(3)),
      row('negatives tagged SEV<=3', (x) => pct(x.hourglass.negativeShares[2]!, 3)),
      row('negatives tagged SEV1', (x) => pct(x.hourglass.negativeShares[0]!, 3)),
      row('latency faults with a SEV<=2 tag within 30 s', within),
      row(
        'latency faults with an incident',
        (x) => `${x.incidents.detected} of ${x.incidents.latencyFaults}`,
      ),
      row('incidents matching no fault', (x) => String(x.incidents.unmatched)),
    ],
  );
}

/**
 * `n` copies of a baseline database (SQLite's online backup: consistent while a sidecar writes
 * it), so that replays compared start alike and the file itself is left as it was.
 */
export async function storeCopies(
  file: string,
  n: number,
): Promise<{ paths: string[]; remove: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-compare-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const paths = Array.from({ length: n }, (_, i) => join(dir, `store-${i}.db`));
      for (const p of paths) await db.backup(p);
      return { paths, remove };
    } finally {
      db.close();
    }
  } catch (err) {
    remove();
    throw new Error(
      `--store: cannot copy ${file}: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
