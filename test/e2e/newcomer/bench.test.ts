import { describe, expect, it } from 'vitest';
import { npm } from '../../helpers/process.js';

/**
 * The benchmarks' npm scripts as a newcomer first runs them: `--help` says how to use them, a
 * mistyped option or value says what was wrong (no stack trace) and exits 2, and a missing
 * dataset is skipped with a sentence saying where it was looked for.
 */
const npmRun = (script: string, ...args: string[]) => npm('run', '--silent', script, '--', ...args);

describe('the benchmarks, run by a newcomer', () => {
  it.each([
    ['bench:real', '--days 2023-01-29'],
    ['bench:detection', '--seeds 1,2,3'],
  ])(
    'npm run %s -- --help prints its usage and options',
    async (script, example) => {
      const r = await npmRun(script, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`usage: npm run ${script} -- [options]`);
      expect(r.stdout).toContain(example);
      expect(r.stdout).toMatch(/^options:$/m);
    },
    60_000,
  );

  it.each([
    ['bench:real', ['--bogus'], "npm run bench:real: Unknown option '--bogus'"],
    ['bench:real', ['--incidents'], "Option '--incidents <value>' argument missing"],
    ['bench:real', ['--days', '2021-01-01'], 'no such day: 2021-01-01 (the days: 2022-08-22'],
    ['bench:real', ['--set', '{'], '--set is not JSON'],
    ['bench:real', ['--set', '{"window":5}'], 'not valid anomaly settings: (root): Unrecognized'],
    ['bench:real', ['--restart-every', 'often'], '--restart-every "often" is not a duration'],
    ['bench:detection', ['--set', '{'], 'npm run bench:detection: --set is not JSON'],
    ['bench:detection', ['--set', '{"window":5}'], 'bench:detection: --set is not valid anomaly'],
  ])(
    'npm run %s -- %j says what was wrong and exits 2',
    async (script, args, message) => {
      const r = await npmRun(script, ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    },
    60_000,
  );

  it('npm run bench:real skips, saying so, when the dataset is not there', async () => {
    const r = await npmRun('bench:real', '--data', '/nonexistent/nezha');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'bench:real skipped: the Nezha dataset is not at /nonexistent/nezha',
    );
  }, 60_000);
});
