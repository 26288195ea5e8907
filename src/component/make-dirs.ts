import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, one level at a time. Node 20's `mkdir(path, { recursive: true })` never returns for a
 * path under a filesystem that refuses new entries with ENOENT (`/proc/nope/data`: it retries the
 * parent forever at 100% CPU); this fails with that level's error instead, which names the path.
 */
export function makeDirsSync(dir: string): void {
  for (const level of missingLevels(dir, existsSync)) {
    try {
      mkdirSync(level);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** The asynchronous `makeDirsSync`. */
export async function makeDirs(dir: string): Promise<void> {
  const exists = new Map<string, boolean>();
  let p = resolve(dir);
  for (;;) {
    const found = await stat(p).then(
      () => true,
      () => false,
    );
    exists.set(p, found);
    const up = dirname(p);
    if (found || up === p) break;
    p = up;
  }
  for (const level of missingLevels(dir, (q) => exists.get(q) ?? true)) {
    try {
      await mkdir(level);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}

/** The levels of `dir` that do not exist, outermost first. */
function missingLevels(dir: string, exists: (path: string) => boolean): string[] {
  const missing: string[] = [];
  let p = resolve(dir);
  while (!exists(p)) {
    missing.push(p);
    const up = dirname(p);
    if (up === p) break;
    p = up;
  }
  return missing.reverse();
}
