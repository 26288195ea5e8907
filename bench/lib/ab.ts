/**
 * The machinery of the in-process A/B benchmarks (`bench/scoring-ab.ts`, `bench/trace-index-ab.ts`):
 * trees timed in alternating rounds, medians per tree and the median of the per-round ratios.
 *
 * Time is the process's CPU time (`process.cpuUsage`, all threads, so GC helpers count) unless
 * `BENCH_CLOCK=wall`: on a shared machine a round's wall-clock time is mostly how often the
 * process was preempted. For `indexFromLayout`, whose per-span code 106bf3d and main share,
 * wall-clock ratios ranged 0.91x to 1.18x over three runs; in CPU time, main against a checkout
 * of itself gave 0.90x to 1.06x over 24 case-runs (median 1.00x) at a load of 7 to 16.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export const wallClock = process.env['BENCH_CLOCK'] === 'wall';

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** ns per item of `n` calls of `run(i)`, each handling `itemsPerCall` items. */
export function timePerItem(n: number, itemsPerCall: number, run: (i: number) => void): number {
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) run(i);
  if (wallClock) return Number(process.hrtime.bigint() - wall0) / (n * itemsPerCall);
  const d = process.cpuUsage(cpu0);
  return ((d.user + d.system) * 1000) / (n * itemsPerCall);
}

/** The header of the table `abRow` fills: one column per tree, one ratio per other tree. */
export function abHeader(labels: readonly string[]): string {
  const others = labels.slice(1);
  return [
    `| case | ${labels.map((l) => `${l} ns/span`).join(' | ')} | ${others.map((l) => `this tree / ${l}`).join(' | ')} |`,
    `| --- | ${labels.map(() => '---:').join(' | ')} | ${others.map(() => '---:').join(' | ')} |`,
  ].join('\n');
}

/**
 * `rounds` rounds of `time(k)` for every tree `k` (the order reversed every other round, so
 * neither always runs first); the row of medians and of median ratios (tree 0 / tree k).
 */
export function abRow(
  label: string,
  trees: number,
  rounds: number,
  time: (k: number) => number,
): string {
  const ns = Array.from({ length: trees }, () => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const order = [...ns.keys()];
    if (r % 2) order.reverse();
    for (const k of order) ns[k]!.push(time(k));
  }
  const ratios = ns.slice(1).map((other) => median(ns[0]!.map((x, r) => x / other[r]!)));
  return `| ${label} | ${ns.map((xs) => median(xs).toFixed(0)).join(' | ')} | ${ratios
    .map((x) => `${x.toFixed(2)}x`)
    .join(' | ')} |`;
}

/**
 * The checkouts named on the command line (`npm run SCRIPT -- DIR [DIR...]`), each with the label
 * its column gets; exits with the usage when there is none or one lacks `mustHave`.
 */
export function otherCheckouts(script: string, mustHave: string): { dir: string; label: string }[] {
  const dirs = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  if (dirs.length === 0 || process.argv.includes('--help')) {
    console.log(`usage: npm run ${script} -- DIR [DIR...]  (DIR: another checkout of hourglass)`);
    process.exit(dirs.length === 0 && !process.argv.includes('--help') ? 2 : 0);
  }
  for (const d of dirs) {
    if (!existsSync(join(d, mustHave))) {
      console.error(`${d}: not a checkout of hourglass (no ${mustHave})`);
      process.exit(2);
    }
  }
  return dirs.map((d) => ({ dir: resolve(d), label: basename(resolve(d)) }));
}
