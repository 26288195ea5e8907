import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, ROOT } from '../helpers/process.js';

/**
 * `npm run bench` (bench/throughput/run.ts) starts a downstream, the built sidecar, and load
 * generators, each in its own process. However it ends (an error midway, Ctrl-C, SIGTERM), none
 * of them may be left running. Each case watches the benchmark's process tree from /proc.
 */
beforeAll(() => assertBuilt());

interface Proc {
  readonly pid: number;
  readonly cmdline: string;
}

/** A process's parent, and whether it is still running (a zombie is not), from /proc. */
function stat(pid: number): { ppid: number; running: boolean } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(ppid), running: state !== 'Z' && state !== 'X' };
  } catch {
    return undefined;
  }
}

function descendants(root: number): Proc[] {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    const s = Number.isInteger(pid) ? stat(pid) : undefined;
    if (s !== undefined) byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), pid]);
  }
  const found: Proc[] = [];
  const queue = [...(byParent.get(root) ?? [])];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    found.push({ pid, cmdline });
    queue.push(...(byParent.get(pid) ?? []));
  }
  return found;
}

const seen = new Map<number, Proc>();
afterEach(() => {
  // Whatever a failing case left behind (the defect under test) is not left to the machine.
  for (const pid of seen.keys()) {
    if (stat(pid)?.running) process.kill(pid, 'SIGKILL');
  }
  seen.clear();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The benchmark, one short run over HTTP/protobuf, its children recorded as they appear. */
function startBench(): {
  bench: ChildProcess;
  exited: Promise<number | null>;
  stderr: () => string;
} {
  const bench = spawn(process.execPath, ['--import', 'tsx', 'bench/throughput/run.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      BENCH_REPEATS: '1',
      BENCH_SECONDS: '30',
      BENCH_TRANSPORTS: 'http/protobuf',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  bench.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    bench.once('exit', (code, signal) => resolve(code ?? (signal === null ? null : -1))),
  );
  return { bench, exited, stderr: () => stderr };
}

/** Polls the benchmark's process tree until `wanted` is among its descendants. */
async function waitFor(bench: ChildProcess, wanted: RegExp): Promise<Proc> {
  for (let i = 0; i < 600; i++) {
    for (const p of descendants(bench.pid!)) seen.set(p.pid, p);
    const match = [...seen.values()].find((p) => wanted.test(p.cmdline) && stat(p.pid)?.running);
    if (match) return match;
    if (bench.exitCode !== null) throw new Error(`the benchmark exited with ${bench.exitCode}`);
    await sleep(50);
  }
  throw new Error(`no ${wanted} under the benchmark`);
}

/** The processes the benchmark started that still run, waiting a while for them to stop. */
async function stillRunning(): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const left = [...seen.values()].filter((p) => stat(p.pid)?.running);
    if (left.length === 0) return [];
    await sleep(100);
  }
  return [...seen.values()].filter((p) => stat(p.pid)?.running).map((p) => p.cmdline);
}

describe('npm run bench stops the processes it started', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    'on %s, midway through a measurement: sidecar, load generator and downstream',
    async (signal, code) => {
      const { bench, exited } = startBench();
      await waitFor(bench, /bench\/throughput\/sink\.ts/);
      await waitFor(bench, /dist\/cli\.js run/);
      await waitFor(bench, /bench\/throughput\/loadgen\.ts/);
      bench.kill(signal);
      expect(await exited).toBe(code);
      expect(seen.size).toBeGreaterThanOrEqual(3);
      expect(await stillRunning()).toEqual([]);
    },
    60_000,
  );

  it('when it fails midway (the sidecar dies before it is ready), with the error', async () => {
    const { bench, exited, stderr } = startBench();
    await waitFor(bench, /bench\/throughput\/sink\.ts/);
    const sidecar = await waitFor(bench, /dist\/cli\.js run/);
    process.kill(sidecar.pid, 'SIGKILL');
    expect(await exited).toBe(1);
    expect(stderr()).toContain('the sidecar exited (SIGKILL) before it was ready');
    expect(await stillRunning()).toEqual([]);
  }, 60_000);
});
