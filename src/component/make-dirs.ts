import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, one level at a time. Node 20's `mkdir(path, { recursive: true })` never returns for a
 * path under a filesystem that refuses new entries with ENOENT (`/proc/nope/data`: it retries the
 * parent forever at 100% CPU); this fails with that level's error instead, which names the path.
 */
export function makeDirsSync(dir: string): void {
  const missing: string[] = [];
  for (let p = resolve(dir); !existsSync(p) && dirname(p) !== p; p = dirname(p)) missing.push(p);
  for (const level of missing.reverse()) {
    try {
      mkdirSync(level);
    } catch (err) {
      throwUnlessExists(err);
    }
  }
}

/** The asynchronous `makeDirsSync`. */
export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(dir); !(await exists(p)) && dirname(p) !== p; p = dirname(p)) {
    missing.push(p);
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level);
    } catch (err) {
      throwUnlessExists(err);
    }
  }
}

const exists = (path: string): Promise<boolean> =>
  stat(path).then(
    () => true,
    () => false,
  );

/** Another process (or store) may create a level in between: that is what was wanted. */
function throwUnlessExists(err: unknown): void {
  if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
}
