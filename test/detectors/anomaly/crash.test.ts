import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';

const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

describe('the baseline database under kill -9', () => {
  let dir: string | undefined;
  let child: ChildProcess | undefined;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('survives intact, with every committed flush', async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-crash-'));
    const file = join(dir, 'hg.db');
    child = spawn(process.execPath, ['--import', 'tsx', writer, file], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const proc = child;
    // Kill it mid-stream, after 30 flushes, while it keeps writing.
    const lastCommitted = await new Promise<number>((resolve, reject) => {
      let last = 0;
      let seen = 0;
      let buffered = '';
      proc.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) {
          last = Number(line.split(' ')[1]);
          if (++seen === 30) {
            proc.kill('SIGKILL');
            resolve(last);
          }
        }
      });
      proc.once('exit', (code) => {
        if (seen < 30) reject(new Error(`the writer exited early (${code})`));
      });
    });
    await new Promise((resolve) => proc.once('exit', resolve));
    expect(proc.signalCode).toBe('SIGKILL');

    const db = new Database(file);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const { total } = db.prepare('SELECT sum(count) AS total FROM daily_stats').get() as {
        total: number;
      };
      // Everything reported committed is there; at most the flushes after it (the child may
      // have committed a few more before the signal landed), never a partial one.
      expect(total).toBeGreaterThanOrEqual(lastCommitted);
      expect(total % 200).toBe(0);
      const keys = db.prepare('SELECT count(*) AS n FROM keys').get() as { n: number };
      expect(keys.n).toBe(7 * 13);
    } finally {
      db.close();
    }
  });
});
