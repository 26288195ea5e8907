import type { z } from 'zod';

/**
 * "Did you mean" for config typos: the closest candidate by edit distance (with transpositions),
 * close enough to be a typo of it (`endpont` -> `endpoint`, `recievers` -> `receivers`).
 */
function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.floor(w.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word) continue;
    const d = distance(w, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** `; did you mean "x"?`, or "" when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? '' : `; did you mean "${c}"?`;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions). */
function distance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Math.abs(a.length - b.length);
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
  element?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  getter?: () => z.ZodType;
}

const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schemas a schema stands for, through wrappers (optional, default, pipes, unions). */
function objects(schema: z.ZodType, depth = 0): z.ZodType[] {
  if (depth > 20) return [];
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return [schema];
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'nonoptional':
    case 'catch':
    case 'readonly':
      return def.innerType ? objects(def.innerType, depth + 1) : [];
    case 'pipe':
      return [def.in, def.out].flatMap((s) => (s ? objects(s, depth + 1) : []));
    case 'union':
      return (def.options ?? []).flatMap((s) => objects(s, depth + 1));
    case 'lazy':
      return def.getter ? objects(def.getter(), depth + 1) : [];
    case 'array':
      return [schema];
    default:
      return [];
  }
}

/** The settings a component's schema knows at `path` (below its root), for suggestions. */
export function keysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let nodes = objects(schema);
  for (const p of path) {
    nodes = nodes.flatMap((n) => {
      const def = defOf(n);
      if (typeof p === 'number')
        return def.type === 'array' && def.element ? objects(def.element) : [];
      const child = def.type === 'object' ? def.shape?.[String(p)] : undefined;
      return child ? objects(child) : [];
    });
  }
  return [...new Set(nodes.flatMap((n) => Object.keys(defOf(n).shape ?? {})))];
}
