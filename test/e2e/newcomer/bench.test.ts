import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CART,
  nezhaTraffic,
  writeFaultList,
  writeNezhaCsv,
} from '../../detectors/helpers/nezha-csv.js';
import { Random } from '../../detectors/helpers/random.js';
import { npm, ROOT } from '../../helpers/process.js';

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

  it.each(['bench:scoring:ab', 'bench:index:ab', 'bench:incidents:ab'])(
    'npm run %s without a checkout to compare says how to use it and exits 2; a wrong one is named',
    async (script) => {
      const none = await npmRun(script);
      expect(none.code).toBe(2);
      expect(none.stdout).toBe(
        `usage: npm run ${script} -- DIR [DIR...]  (DIR: another checkout of hourglass)\n`,
      );
      const dir = mkdtempSync(join(tmpdir(), 'hourglass-not-a-checkout-'));
      try {
        const wrong = await npmRun(script, dir);
        expect(wrong.code).toBe(2);
        expect(wrong.stderr).toMatch(new RegExp(`^${dir}: not a checkout of hourglass \\(no src/`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  const HELP = (script: string) => `("npm run ${script} -- --help" lists the options)`;
  it.each([
    ['bench:real', ['--bogus'], `unknown option --bogus ${HELP('bench:real')}`],
    [
      'bench:real',
      ['--dayz', 'x'],
      `unknown option --dayz; did you mean "--days"? ${HELP('bench:real')}`,
    ],
    ['bench:real', ['--incidents'], `--incidents needs a value ${HELP('bench:real')}`],
    [
      'bench:real',
      ['--days', '2021-01-01'],
      '--days: no such day: 2021-01-01 (the days: 2022-08-22, 2022-08-23, 2023-01-29)',
    ],
    ['bench:real', ['--set', '{'], /^--set is not JSON: /],
    [
      'bench:real',
      ['--set', '{"window":5}'],
      /^--set is not valid anomaly settings: \(root\): Unrecognized/,
    ],
    [
      'bench:real',
      ['--restart-every', 'often'],
      '--restart-every "often" is not a duration (e.g. 30m)',
    ],
    ['bench:real', ['stray'], `unexpected argument "stray" ${HELP('bench:real')}`],
    [
      'bench:detection',
      ['--sedes', '1'],
      `unknown option --sedes; did you mean "--seeds"? ${HELP('bench:detection')}`,
    ],
    [
      'bench:detection',
      ['--seeds', 'x'],
      '--seeds "x" is not a list of whole numbers (e.g. 1,2,3)',
    ],
    [
      'bench:detection',
      ['--rates', '--seeds', '1,x'],
      '--seeds "1,x" is not a list of whole numbers (e.g. 1,2,3)',
    ],
    ['bench:detection', ['--weeks', '5w'], '--weeks "5w" is not a whole number of at least 1'],
    ['bench:detection', ['--weeks', '2'], '--weeks 2 leaves nothing after --warmup 2: give more'],
    ['bench:detection', ['--volume', 'lots'], '--volume "lots" is not a number above 0'],
    [
      'bench:detection',
      ['--volume', '-1'],
      `--volume is followed by an option, not its value; for a value starting with "-", write --volume=VALUE ${HELP('bench:detection')}`,
    ],
    ['bench:detection', ['--set', '{'], /^--set is not JSON: /],
    ['bench:detection', ['--set', '{"window":5}'], /^--set is not valid anomaly settings: /],
    ['bench:scoring', ['--seconds', '3'], `unknown option --seconds ${HELP('bench:scoring')}`],
  ])(
    'npm run %s -- %j says what was wrong in one line naming the option, and exits 2',
    async (script, args, message) => {
      const r = await npmRun(script, ...args);
      expect(r.code).toBe(2);
      const [line, ...more] = r.stderr.split('\n');
      expect(more).toEqual(['']);
      expect(line!.startsWith(`npm run ${script}: `)).toBe(true);
      const problem = line!.slice(`npm run ${script}: `.length);
      if (typeof message === 'string') expect(problem).toBe(message);
      else expect(problem).toMatch(message);
    },
    60_000,
  );

  it('npm run bench -- --bogus is refused: the throughput benchmark takes no options', async () => {
    // Run as npm runs it after its build (`npm run bench` builds dist/, which other tests run).
    const bench = (arg: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'bench/throughput/run.ts', arg], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const bogus = bench('--bogus');
    expect(bogus.status).toBe(2);
    expect(bogus.stderr).toBe(`npm run bench: unknown option --bogus ${HELP('bench')}\n`);
    const help = bench('--help');
    expect(help.status).toBe(0);
    for (const v of [
      'BENCH_REPEATS',
      'BENCH_SECONDS',
      'BENCH_TRANSPORTS',
      'BENCH_CPU_AT',
      'BENCH_FLEET',
    ]) {
      expect(help.stdout).toContain(v);
    }
  }, 60_000);

  it.each([
    ['BENCH_SECONDS', '10s', 'BENCH_SECONDS="10s" is not a whole number of at least 1'],
    ['BENCH_REPEATS', '0', 'BENCH_REPEATS="0" is not a whole number of at least 1'],
    ['BENCH_CPU_AT', 'lots', 'BENCH_CPU_AT="lots" is not a whole number of at least 0'],
    [
      'BENCH_TRANSPORTS',
      'http/protobuf,grcp',
      'BENCH_TRANSPORTS: no transport "grcp"; did you mean "grpc"? (the transports: http/protobuf, grpc, http/json)',
    ],
  ])(
    '%s=%s: npm run bench names the variable and exits 2, before starting anything',
    (name, value, message) => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/throughput/run.ts'], {
        cwd: ROOT,
        env: { ...process.env, [name]: value },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect([r.status, r.stderr]).toEqual([2, `npm run bench: ${message}\n`]);
    },
    60_000,
  );

  const WHOLE = 'a whole number of at least 1';
  it.each([
    {
      script: 'bench:scoring',
      file: 'scoring.ts',
      name: 'BENCH_CLIENTS',
      value: '4x',
      what: WHOLE,
    },
    { script: 'bench:scoring', file: 'scoring.ts', name: 'BENCH_SECONDS', value: '0', what: WHOLE },
    {
      script: 'bench:index:ab',
      file: 'trace-index-ab.ts',
      name: 'BENCH_ROUNDS',
      value: 'x',
      what: WHOLE,
    },
    {
      script: 'bench:incidents:ab',
      file: 'incidents-ab.ts',
      name: 'BENCH_REQUESTS',
      value: '-5',
      what: WHOLE,
    },
    {
      script: 'bench:security',
      file: 'security.ts',
      name: 'BENCH_SCALE',
      value: 'lots',
      what: 'a number above 0',
    },
    {
      script: 'bench',
      file: 'fleet.ts',
      name: 'BENCH_FLEET_SIZES',
      value: '1,,4',
      what: 'a list of whole numbers of at least 1 (e.g. 1,4,16)',
    },
  ])(
    'npm run $script: $name=$value names the variable and exits 2, before measuring anything',
    ({ script, file, name, value, what }) => {
      // The A/B benchmarks are given a checkout to compare with (this one), as they need one.
      const args = file.endsWith('-ab.ts') ? [ROOT] : [];
      const r = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`, ...args], {
        cwd: ROOT,
        env: { ...process.env, [name]: value },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect([r.status, r.stdout, r.stderr]).toEqual([
        2,
        '',
        `npm run ${script}: ${name}="${value}" is not ${what}\n`,
      ]);
    },
    60_000,
  );

  it('npm run bench:scoring -- --help lists the variables it reads', async () => {
    const r = await npmRun('bench:scoring', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('usage: [VARIABLE=VALUE ...] npm run bench:scoring');
    for (const v of ['BENCH_SECONDS', 'BENCH_CLIENTS']) expect(r.stdout).toContain(v);
    // It takes no options, and says so rather than print an empty list under "options:".
    expect(r.stdout.trimEnd().endsWith('\n\noptions: none')).toBe(true);
  }, 60_000);

  it('npm run bench:real skips, saying so, when the dataset is not there', async () => {
    const r = await npmRun('bench:real', '--data', '/nonexistent/nezha');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'bench:real skipped: the Nezha dataset is not at /nonexistent/nezha',
    );
  }, 60_000);

  describe('npm run bench:real on a dataset laid out as Nezha is', () => {
    const MIN = 60_000;
    const SLOW = 40;
    let data: string;

    /**
     * A small dataset with the Nezha layout (`bench/real/days.ts`), written here: each judged day
     * has one CPU fault on the called pod, 40x slower for four minutes. 2022-08-22 is judged after
     * a fault-free sample of 40 requests and 2022-08-23's 600 clean ones; its own 150 requests
     * (one every 4 s) keep a key under the 10x figure's 200 spans of history when the history is
     * the sample alone (`--thin-history`), and over it with the other day.
     */
    beforeAll(() => {
      data = mkdtempSync(join(tmpdir(), 'hourglass-nezha-'));
      const r = new Random(11);
      const day = (
        name: string,
        from: number,
        n: number,
        everyMs: number,
        fault?: number,
        pods = {},
      ) => {
        mkdirSync(join(data, name, 'trace'), { recursive: true });
        const slow = (t: number) =>
          fault !== undefined && t >= fault && t < fault + 4 * MIN ? SLOW : 1;
        writeNezhaCsv(
          join(data, name, 'trace', '09_00_trace.csv.gz'),
          nezhaTraffic(from, n, r, slow, { ...pods, everyMs }),
        );
        const callee = (pods as { callee?: string }).callee ?? CART;
        writeFaultList(
          join(data, name, 'fault_list.json'),
          fault === undefined ? [] : [{ at: fault, pod: callee, type: 'cpu_contention' }],
        );
      };
      const sample = (name: string, from: number, n: number, pods = {}) => {
        mkdirSync(join(data, 'fault-free', name), { recursive: true });
        writeNezhaCsv(
          join(data, 'fault-free', name, '08_00_trace.csv.gz'),
          nezhaTraffic(from, n, r, undefined, pods),
        );
      };
      const ob22 = Date.UTC(2022, 7, 22, 9);
      const ob23 = Date.UTC(2022, 7, 23, 9);
      day('2022-08-22', ob22, 150, 4000, ob22 + 2 * MIN);
      day('2022-08-23', ob23, 600, 1000);
      sample('2022-08-23', ob23 - 60 * MIN, 40);
      const tt = Date.UTC(2023, 0, 29, 9);
      const ts = {
        caller: 'ts-preserve-service-5c7f9d8b6-q2w3e',
        callee: 'ts-order-service-6b8d4c9f7-r4t5y',
      };
      day('2023-01-29', tt, 600, 1000, tt + 5 * MIN, ts);
      sample('2023-01-29', tt - 60 * MIN, 600, ts);
    });
    afterAll(() => rmSync(data, { recursive: true, force: true }));

    interface DayJson {
      day: string;
      state: string;
      figures: { name: string; value: string; pass: boolean | null }[];
      scoring: {
        faults: { pod: string; firstTagS: (number | null)[] }[];
        tenfold: { required: Record<string, number>; youngKey: number };
        incidents: { faults: { ids: string[] }[] };
      };
      variants: { name: string }[];
    }
    const run = async (...args: string[]) => {
      const out = join(data, `${args.join('').replace(/\W/g, '')}.json`);
      const r = await npmRun('bench:real', '--data', data, '--no-sim', '--out', out, ...args);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.code).toBe(0);
      return { ...r, days: (JSON.parse(readFileSync(out, 'utf8')) as { days: DayJson[] }).days };
    };
    const required = (d: DayJson) =>
      Object.values(d.scoring.tenfold.required).reduce((a, b) => a + b, 0);

    it('judges each day after its history and prints the figures, with other incident settings beside them', async () => {
      const r = await run(
        '--days',
        '2022-08-22,2023-01-29',
        '--no-fresh',
        '--incidents',
        '{"reopen":{"reopen_within":"30m"}}',
      );
      expect(r.stdout).toContain('### After history and a recalculation');
      expect(r.stdout).toContain('Incidents with `--incidents` reopen');
      expect(r.stdout).not.toContain('Fresh install');
      expect(r.days.map((d) => `${d.day} ${d.state}`)).toEqual([
        '2022-08-22 recalculated',
        '2023-01-29 recalculated',
      ]);
      for (const d of r.days) {
        // The 40x fault is tagged SEV<=2 within 30 s and opens an incident, on both systems.
        expect(d.figures[0]!.value).toMatch(/^1 of 1/);
        expect(d.scoring.faults[0]!.firstTagS[1]).toBeLessThanOrEqual(30);
        expect(d.scoring.incidents.faults[0]!.ids.length).toBeGreaterThan(0);
        expect(d.variants.map((v) => v.name)).toEqual(['reopen']);
      }
      // With the other day's negatives, the called key has its 200 spans of history before the
      // fault: its 10x spans are required to be tagged.
      expect(required(r.days[0]!)).toBeGreaterThan(0);
    }, 120_000);

    it('--thin-history judges after the fault-free sample only, in both states, restarted', async () => {
      const r = await run('--days', '2022-08-22', '--thin-history', '--restart-every', '2m');
      expect(r.stdout).toContain('history: the fault-free sample only');
      expect(r.stdout).toContain('the sidecar restarted every 2m');
      expect(r.days.map((d) => d.state)).toEqual(['recalculated', 'fresh install']);
      for (const d of r.days) {
        // 40 requests of history and 150 judged: no key reaches 200 spans, so no 10x span is
        // required, and the fault's are counted on a young key.
        expect(required(d)).toBe(0);
        expect(d.scoring.tenfold.youngKey).toBeGreaterThan(0);
        // Tagged SEV3 at once (the 10x rule), but not SEV2: a key of 70 spans claims no rarer
        // than 1 in 70 (anomaly README, "Sixth pass (a)"), and the bench says so.
        const [sev1, sev2, sev3] = d.scoring.faults[0]!.firstTagS;
        expect([sev1, sev2]).toEqual([null, null]);
        expect(sev3).toBeLessThanOrEqual(1);
        expect(d.figures[0]!.value).toMatch(/^0 of 1 \(missed: cartservice cpu_contention never\)/);
      }
    }, 120_000);
  });
});
