import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeDirs, makeDirsSync } from '../../src/component/make-dirs.js';

describe('makeDirs', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const temp = () => {
    const d = mkdtempSync(join(tmpdir(), 'hourglass-make-dirs-'));
    dirs.push(d);
    return d;
  };

  it('creates every missing level, and takes levels that exist', async () => {
    const root = temp();
    makeDirsSync(join(root, 'a', 'b', 'c'));
    expect(statSync(join(root, 'a', 'b', 'c')).isDirectory()).toBe(true);
    makeDirsSync(join(root, 'a', 'b', 'c'));
    await makeDirs(join(root, 'a', 'x', 'y'));
    expect(statSync(join(root, 'a', 'x', 'y')).isDirectory()).toBe(true);
    await makeDirs(join(root, 'a', 'x', 'y'));
  });

  // Node 20's recursive mkdir never settles there (the sidecar hung at start).
  it.runIf(existsSync('/proc/self'))('fails under /proc, naming the level', async () => {
    await expect(makeDirs('/proc/hourglass-nope/data')).rejects.toThrow(
      "ENOENT: no such file or directory, mkdir '/proc/hourglass-nope'",
    );
    expect(() => makeDirsSync('/proc/hourglass-nope/data')).toThrow(
      "ENOENT: no such file or directory, mkdir '/proc/hourglass-nope'",
    );
  });
});
