import type { ReplayRun } from './replay.js';

/** A run of tags: tags of one operation less than RUN_GAP_MS apart. */
export const RUN_GAP_MS = 60_000;

export interface TagRun {
  readonly service: string;
  readonly operation: string;
  readonly kind: number;
  /** Start of the first and the last tagged span of the run (ms). */
  readonly first: number;
  readonly last: number;
  readonly tags: number;
  /** The operation's spans that started from the first to the last tag. */
  readonly spans: number;
  /** Tags per severity, index 1..5. */
  readonly bySeverity: number[];
}

export interface TagSummary {
  readonly spans: number;
  /** Spans tagged per severity, index 1..5 (0: untagged). */
  readonly bySeverity: number[];
  readonly runs: TagRun[];
}

/** What was tagged: per severity, and per operation each run of tags with its first and last. */
export function tagSummary(run: ReplayRun): TagSummary {
  const t = run.stream.table;
  const bySeverity = [0, 0, 0, 0, 0, 0];
  const perKey = new Map<number, number[]>();
  for (let i = 0; i < t.count; i++) {
    bySeverity[run.severity[i]!]!++;
    let list = perKey.get(t.key[i]!);
    if (!list) perKey.set(t.key[i]!, (list = []));
    list.push(i);
  }
  const runs: TagRun[] = [];
  for (const [key, list] of perKey) {
    const start = (i: number) => t.startMs(i);
    list.sort((a, b) => start(a) - start(b) || a - b);
    const k = t.keys[key]!;
    let open: { first: number; last: number; from: number; to: number; sev: number[] } | undefined;
    const close = () => {
      if (!open) return;
      const tags = open.sev.reduce((a, b) => a + b, 0);
      runs.push({
        service: k.service,
        operation: k.name,
        kind: k.kind,
        first: open.first,
        last: open.last,
        tags,
        spans: open.to - open.from + 1,
        bySeverity: [0, ...open.sev],
      });
      open = undefined;
    };
    list.forEach((i, pos) => {
      const sev = run.severity[i]!;
      if (sev === 0) return;
      const at = start(i);
      if (open && at - open.last >= RUN_GAP_MS) close();
      if (!open) open = { first: at, last: at, from: pos, to: pos, sev: [0, 0, 0, 0, 0] };
      open.last = at;
      open.to = pos;
      open.sev[sev - 1]!++;
    });
    close();
  }
  runs.sort((a, b) => a.first - b.first || a.service.localeCompare(b.service));
  return { spans: t.count, bySeverity, runs };
}
