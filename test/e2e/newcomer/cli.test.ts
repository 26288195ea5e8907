import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { protoToJson } from '../../../src/otlp/json-encode.js';
import { shippedEndpoints } from '../../helpers/ports.js';
import { assertBuilt, CLI, ROOT, SidecarProcess } from '../../helpers/process.js';
import { traceRequest } from '../../helpers/spans.js';
import { Random } from '../../detectors/helpers/random.js';
import { traceRequest as timedRequest, type SpanSpec } from '../../detectors/helpers/traces.js';

/**
 * Every command as a newcomer runs it from a checkout: the built CLI (what `npx hourglass` and
 * the package's "bin" run), the shipped otel-config.yaml, the environment variables it reads.
 * Stores go to a temporary HOURGLASS_DATA_DIR; ports, where a sidecar runs, to free ones through
 * the HOURGLASS_*_ENDPOINT variables (other test files run at the same time).
 */
beforeAll(() => assertBuilt());
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-newcomer-cli-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `node dist/cli.js ...args` from the checkout's root. With `closedStdout`, the reading end of its
 * stdout is closed before it writes anything: `hourglass ... | head` after head has exited.
 */
function hourglass(
  args: string[],
  env: Record<string, string> = {},
  options: { closedStdout?: boolean } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  if (options.closedStdout) child.stdout.destroy();
  else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** OTLP/JSON lines (the file exporter's output), `files` files of 40 spans each. */
function otlpJsonFiles(dir: string, files: number): string[] {
  return Array.from({ length: files }, (_, i) => {
    const file = join(dir, `spans-${i}.jsonl`);
    writeFileSync(file, `${JSON.stringify(protoToJson('traces', traceRequest(40, 'checkout')))}\n`);
    return file;
  });
}

const STACK = /^\s+at .+\(.*:\d+:\d+\)$/m;

describe('npx hourglass', () => {
  it('runs the checkout\'s own CLI (dist/ is built by npm ci\'s "prepare")', () => {
    // --no-install: never fetch a package of that name from a registry.
    const r = spawnSync('npx', ['--no-install', 'hourglass', '--version'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  }, 60_000);
});

describe('wrong, missing and misspelled arguments', () => {
  it.each([
    [
      ['run', '--confg', 'otel-config.yaml'],
      'hourglass run: unknown option --confg; did you mean "--config"? ("hourglass run --help" lists the options)\n',
    ],
    // A config named without --config was ignored: validate said another file was valid.
    [
      ['validate', 'my-config.yaml'],
      'hourglass validate: unexpected argument "my-config.yaml"; to name the config, use --config my-config.yaml\n',
    ],
    [
      ['run', 'my-config.yaml'],
      'hourglass run: unexpected argument "my-config.yaml"; to name the config, use --config my-config.yaml\n',
    ],
    [
      ['validate', '--load-plugin'],
      'hourglass validate: unknown option --load-plugin; did you mean "--load-plugins"? ("hourglass validate --help" lists the options)\n',
    ],
    [
      ['recalculate', '--config'],
      'hourglass recalculate: --config needs a value ("hourglass recalculate --help" lists the options)\n',
    ],
    [
      ['backfill', '--jaegr', 'http://jaeger:16686'],
      'hourglass backfill: unknown option --jaegr; did you mean "--jaeger"? ("hourglass backfill --help" lists the options)\n',
    ],
    [
      ['healthcheck', 'extra'],
      'hourglass healthcheck: unexpected argument "extra" ("hourglass healthcheck --help" lists the options)\n',
    ],
  ])('hourglass %j says what was wrong and what to do, and exits 2', async (args, message) => {
    // An unusable telemetry address: a build that ignored the argument stops at once (exit 1)
    // instead of running a sidecar on the shipped ports.
    const r = await hourglass(args, { HOURGLASS_TELEMETRY_ENDPOINT: 'nowhere' });
    expect([r.code, r.stdout, r.stderr]).toEqual([2, '', message]);
  });

  it('a misspelled command gets the closest one', async () => {
    const r = await hourglass(['runn']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('hourglass: unknown command "runn"; did you mean "run"?');
  });

  it.each([
    ['telemetry', 'HOURGLASS_TELEMETRY_ENDPOINT', 'service.telemetry.metrics.address'],
    ['OTLP/HTTP', 'HOURGLASS_HTTP_ENDPOINT', 'receivers.otlp.protocols.http.endpoint'],
  ])(
    'hourglass run a second time (%s): says the port is taken, the setting and variable to change, and exits 1',
    async (what, variable, setting) => {
      const taken = net.createServer();
      await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
      cleanups.push(() => new Promise((resolve) => taken.close(resolve)));
      const address = `127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
      const r = await hourglass(['run'], {
        ...(await shippedEndpoints()),
        [variable]: address,
        HOURGLASS_DATA_DIR: tempDir(),
        HOURGLASS_CONFIG: join(ROOT, 'otel-config.yaml'),
      });
      // The address a set variable gave is named by the variable, never echoed: the error is
      // said once, in words; the log says which component failed (it logged the error, whose
      // stack showed its cause's message, with the address).
      const why = `cannot listen for ${what} on the value of \${env:${variable}}: EADDRINUSE: another process already listens there (a second hourglass?); stop it, or give this server another port: ${setting} (set by ${variable})`;
      const lines = r.stderr.split('\n').filter((l) => l !== '');
      const log = lines.filter((l) => l.startsWith('{')); // pino's lines, written asynchronously
      expect([r.code, lines.filter((l) => !log.includes(l))]).toEqual([
        1,
        [`hourglass: cannot start: ${why}`],
      ]);
      const logged = log
        .map((l) => JSON.parse(l) as { level: string; msg: string; component?: string })
        .filter((l) => l.level === 'error');
      expect(logged.map((l) => [l.msg, l.component])).toEqual(
        what === 'telemetry'
          ? [] // the telemetry server starts first: nothing else was started
          : [['start-up failed; stopping what was started', 'receiver/otlp']],
      );
      expect(r.stderr).not.toContain(address);
      expect(r.stdout).not.toContain(address);
    },
  );

  it('hourglass run --help lists its options, as every other command does', async () => {
    const r = await hourglass(['run', '--help']);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^usage: hourglass run \[--config FILE\]\n/);
  });
});

describe('hourglass validate', () => {
  it('accepts the shipped config and says where it sends, and which variable decides it', async () => {
    const r = await hourglass(['validate', '--config', 'otel-config.yaml']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      '  otlp/jaeger sends traces to jaeger:4317 (the default; set JAEGER_OTLP_ENDPOINT to change it)\n',
    );
    const set = await hourglass(['validate', '--config', 'otel-config.yaml'], {
      JAEGER_OTLP_ENDPOINT: 'localhost:14317',
    });
    expect(set.stdout).toContain(
      '  otlp/jaeger sends traces to localhost:14317 (JAEGER_OTLP_ENDPOINT)\n',
    );
  });

  it('accepts each opt-in setting the shipped config shows commented out, once uncommented', async () => {
    // What a newcomer does with `# reopen_within: 30m # ...`: delete the "# ", keep the rest.
    const lines = readFileSync(join(ROOT, 'otel-config.yaml'), 'utf8').split('\n');
    const optIn = /^(\s+)# ([a-z_]+: \S.*?)\s+# /;
    const settings = lines.flatMap((line, at) => (optIn.test(line) ? [at] : []));
    expect(settings.length).toBeGreaterThanOrEqual(10);
    const dir = tempDir();
    for (const at of settings) {
      const edited = lines.map((line, k) => (k === at ? line.replace('# ', '') : line));
      const config = join(dir, `line-${at + 1}.yaml`);
      writeFileSync(config, edited.join('\n'));
      const r = await hourglass(['validate', '--config', config]);
      expect(`${lines[at]!.trim()}: exit ${r.code} ${r.stdout}${r.stderr}`).toMatch(/: exit 0 /);
    }
  }, 120_000);

  it("refuses the shipped config pointed at hourglass's own receiver, naming the variable", async () => {
    const r = await hourglass(['validate', '--config', 'otel-config.yaml'], {
      JAEGER_OTLP_ENDPOINT: 'localhost:4317',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'otel-config.yaml: 1 problem(s):\n' +
        "  exporters.otlp/jaeger.endpoint: sends to the value of ${env:JAEGER_OTLP_ENDPOINT}, which is this process's own receiver (receivers.otlp.protocols.grpc.endpoint listens on 0.0.0.0:4317): the data would come back in and loop forever; point it at the backend (Jaeger, a Collector) instead\n",
    );
    // hourglass run refuses it the same way, before listening anywhere.
    const run = await hourglass(['run', '--config', 'otel-config.yaml'], {
      JAEGER_OTLP_ENDPOINT: '127.0.0.1:4317',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'exporters.otlp/jaeger.endpoint: sends to the value of ${env:JAEGER_OTLP_ENDPOINT}, which',
    );
  });

  it('never echoes a secret from the environment in a problem', async () => {
    const dir = tempDir();
    const file = join(dir, 'otel-config.yaml');
    writeFileSync(
      file,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors: { batch: { send_batch_size: "\${env:BATCH_SIZE}" } }
exporters: { otlphttp: { endpoint: "\${env:BACKEND_URL}" } }
service: { pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [otlphttp] } } }
`,
    );
    const r = await hourglass(['validate', '--config', file], {
      BATCH_SIZE: 's3cr3t-token-1',
      BACKEND_URL: 'hxxp://user:s3cr3t-token-2@backend',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `${file}: 2 problem(s):\n` +
        '  processors.batch.send_batch_size: expected a number, got the value of ${env:BATCH_SIZE} (a string)\n' +
        '  exporters.otlphttp.endpoint: the value of ${env:BACKEND_URL} is not an http:// or https:// URL such as "http://jaeger:4318"\n',
    );
  });

  it('does not run plugin modules unless --load-plugins is given', async () => {
    const dir = tempDir();
    const marker = join(dir, 'the-module-ran');
    writeFileSync(
      join(dir, 'plugin.js'),
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport default 42;\n`,
    );
    const file = join(dir, 'otel-config.yaml');
    writeFileSync(
      file,
      `receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
exporters: { plugin/mine: { module: ./plugin.js, anything: 1 } }
service: { pipelines: { traces: { receivers: [otlp], exporters: [plugin/mine] } } }
`,
    );
    const r = await hourglass(['validate', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'note: exporters.plugin/mine: module "./plugin.js" found but not loaded, so its settings were not checked; --load-plugins loads it (running its code)',
    );
    expect(existsSync(marker)).toBe(false);
    const loaded = await hourglass(['validate', '--config', file, '--load-plugins']);
    expect(loaded.code).toBe(1);
    expect(loaded.stderr).toContain(
      'exporters.plugin/mine: module "./plugin.js" does not export an exporter factory (got number)',
    );
    expect(existsSync(marker)).toBe(true);
  });
});

describe('hourglass backfill and recalculate, on the shipped config', () => {
  it('seeds baselines from OTLP JSON files into HOURGLASS_DATA_DIR, then recalculates', async () => {
    const dir = tempDir();
    const env = { HOURGLASS_DATA_DIR: dir };
    const files = otlpJsonFiles(dir, 2);
    const backfill = await hourglass(['backfill', ...files.flatMap((f) => ['--file', f])], env);
    expect(backfill.stderr).toBe('');
    expect(backfill.code).toBe(0);
    expect(backfill.stdout).toContain(
      `learned 80 of 80 span(s) into 1 key(s) of anomaly (${join(dir, 'hourglass.db')})`,
    );
    expect(existsSync(join(dir, 'hourglass.db'))).toBe(true);
    const recalculate = await hourglass(['recalculate', '--json'], env);
    expect(recalculate.stderr).toBe('');
    expect(recalculate.code).toBe(0);
    expect(JSON.parse(recalculate.stdout)).toMatchObject({ processor: 'anomaly', keys: 1 });
  });

  it('says so when the database was corrupted and moved aside, and recalculates a new one', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'hourglass.db'), 'not a database, '.repeat(512));
    const r = await hourglass(['recalculate', '--json'], { HOURGLASS_DATA_DIR: dir });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ processor: 'anomaly', keys: 0 });
    const line = JSON.parse(r.stderr.trim()) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 'error',
      storage: join(dir, 'hourglass.db'),
      msg: expect.stringContaining('the baseline database is corrupted; moved it aside'),
    });
    expect(existsSync(String(line['movedTo']))).toBe(true);
  });
});

/**
 * `hourglass replay` as an SRE runs it before changing a setting: last week's file export as the
 * history, today's as the files to judge, the shipped config's anomaly settings. A checkout call
 * of about 20 ms, every 2 s; the judged hour holds one call 100x slower, and with `mildEvery` one
 * call in that many 1.5x slower (mildly rare: SEV4-5).
 */
function replayFiles(
  dir: string,
  mildEvery = 0,
): { history: string; judged: string; slowSpanId: string } {
  const r = new Random(7);
  const hour = Date.UTC(2026, 0, 12, 9);
  const week = 7 * 24 * 3_600_000;
  const calls = (from: number, n: number, slowAt = -1, mild = 0): SpanSpec[] =>
    Array.from({ length: n }, (_, i) => ({
      service: 'checkout',
      name: 'GET /cart',
      startMs: from + i * 2_000,
      durationMs:
        i === slowAt ? 2_000 : r.latency(20, 0.15) * (mild > 0 && i % mild === 7 ? 1.5 : 1),
      spanId: (i + 1).toString(16).padStart(16, '0'),
    }));
  const lines = (specs: SpanSpec[]) =>
    Array.from({ length: Math.ceil(specs.length / 100) }, (_, k) =>
      JSON.stringify(protoToJson('traces', timedRequest(specs.slice(k * 100, k * 100 + 100)))),
    ).join('\n');
  const history = join(dir, 'last-week.jsonl');
  const judged = join(dir, 'today.jsonl');
  writeFileSync(history, `${lines(calls(hour - week, 1_800))}\n`);
  writeFileSync(judged, `${lines(calls(hour, 600, 300, mildEvery))}\n`);
  return { history, judged, slowSpanId: (301).toString(16).padStart(16, '0') };
}

/** The `anomaly.severity` of span `spanId` among the OTLP/JSON lines `replay --spans -` wrote. */
function severityOf(stdout: string, spanId: string): string | undefined {
  const tagged = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .flatMap((l) => {
      const req = JSON.parse(l) as {
        resourceSpans: {
          scopeSpans: {
            spans: {
              spanId: string;
              attributes?: { key: string; value: { stringValue?: string } }[];
            }[];
          }[];
        }[];
      };
      return req.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));
    });
  const slow = tagged.find((s) => s.spanId === spanId);
  return slow?.attributes?.find((a) => a.key === 'anomaly.severity')?.value.stringValue;
}

describe('hourglass replay, on the shipped config', () => {
  it('judges a file export after its history and names the slow span', async () => {
    const dir = tempDir();
    const { history, judged, slowSpanId } = replayFiles(dir);
    const env = { HOURGLASS_DATA_DIR: dir };
    const r = await hourglass(['replay', judged, '--history', history], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replayed 600 spans of 1 file(s)');
    expect(r.stdout).toContain('history: 1800 of 1800 spans learned');
    expect(r.stdout).toMatch(/tagged [1-9]\d* of 600 spans/);
    // The tagged spans as OTLP/JSON lines: the 100x call carries a severity of SEV3 or worse.
    const spans = await hourglass(['replay', judged, '--history', history, '--spans', '-'], env);
    expect(spans.code).toBe(0);
    const severity = severityOf(spans.stdout, slowSpanId);
    expect(severity).toMatch(/^SEV[123]$/);
    // Nothing was written to the sidecar's own database: replay works on a temporary one.
    expect(existsSync(join(dir, 'hourglass.db'))).toBe(false);
  });

  it('takes a negative --shift as its help writes it (--shift -168h), not as an option', async () => {
    const dir = tempDir();
    const { history, judged } = replayFiles(dir);
    const r = await hourglass(
      ['replay', judged, '--history', history, '--shift', '-168h', '--history-shift', '-0h'],
      { HOURGLASS_DATA_DIR: dir },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('replayed 600 spans of 1 file(s)');
  });

  it('restarts the sidecar every --restart-every of replay time, and still names the slow span', async () => {
    const dir = tempDir();
    const { history, judged, slowSpanId } = replayFiles(dir);
    const env = { HOURGLASS_DATA_DIR: dir };
    // 600 calls 2 s apart: 20 minutes of replay time, restarted at 5, 10 and 15 minutes.
    const r = await hourglass(
      ['replay', judged, '--history', history, '--restart-every', '5m', '--json'],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { replay: { restarts: number } };
    expect(report.replay.restarts).toBe(3);
    const text = await hourglass(
      ['replay', judged, '--history', history, '--restart-every', '5m', '--spans', '-'],
      env,
    );
    expect(text.stderr).toContain('; restarted 3 time(s), every 5m');
    // The 100x call comes at 10 minutes, in the first request after the second restart.
    expect(severityOf(text.stdout, slowSpanId)).toMatch(/^SEV[123]$/);
    const bad = await hourglass(['replay', judged, '--restart-every', 'soon'], env);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe(
      'hourglass replay: --restart-every: "soon" is not a duration greater than zero (write e.g. 30m)\n',
    );
  });

  it('--compare: the same files replayed with a second config, what each tagged side by side', async () => {
    const dir = tempDir();
    const { history, judged } = replayFiles(dir, 25);
    const env = { HOURGLASS_DATA_DIR: dir };
    // The change an SRE weighs: tag nothing milder than SEV3.
    const other = join(dir, 'sev3.yaml');
    writeFileSync(other, 'processors:\n  anomaly:\n    min_severity: SEV3\n');
    const args = ['replay', judged, '--history', history, '--compare', other];
    const r = await hourglass([...args, '--json'], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      tags: { bySeverity: number[] };
      compare: {
        config: string;
        processor: string;
        comparison: {
          bySeverity: [number[], number[]];
          onlyHere: number;
          onlyThere: number;
          otherSeverity: number;
          operations: { service: string; operation: string; changed: number }[];
        };
      };
    };
    const c = report.compare.comparison;
    expect(report.compare).toMatchObject({ config: other, processor: 'anomaly' });
    expect(c.bySeverity[0]).toEqual(report.tags.bySeverity);
    const mild = c.bySeverity[0][4]! + c.bySeverity[0][5]!;
    expect(mild).toBeGreaterThan(0);
    // What the shipped config tags SEV4-5 the other leaves untagged; SEV1-3 alike.
    expect(c.bySeverity[1].slice(1)).toEqual([...c.bySeverity[0].slice(1, 4), 0, 0]);
    expect([c.onlyHere, c.onlyThere, c.otherSeverity]).toEqual([mild, 0, 0]);
    expect(c.operations).toEqual([
      expect.objectContaining({ service: 'checkout', operation: 'GET /cart', changed: mild }),
    ]);
    const text = await hourglass(args, env);
    expect(text.stdout).toContain(`compared with ${other} (processors.anomaly):`);
    expect(text.stdout).toContain(
      `${mild} of 600 spans tagged differently (${((mild / 600) * 100).toFixed(2)}%): ${mild} tagged by otel-config.yaml only, 0 by sev3.yaml only, 0 at another severity`,
    );
    // Each config starts from its own copy of --store: the file is left as it was.
    const store = join(dir, 'baselines.db');
    expect((await hourglass(['replay', history, '--store', store], env)).code).toBe(0);
    const before = readFileSync(store);
    const stored = await hourglass([...args, '--store', store, '--json'], env);
    expect(stored.code).toBe(0);
    expect(readFileSync(store).equals(before)).toBe(true);
    // A --processor the second config does not have: the error names that file.
    const renamed = join(dir, 'renamed.yaml');
    writeFileSync(renamed, 'processors:\n  anomaly/fast:\n    min_severity: SEV3\n');
    const missing = await hourglass(
      ['replay', judged, '--processor', 'anomaly', '--compare', renamed],
      env,
    );
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      `${renamed}: processors.anomaly: no anomaly processor with this id; configured: anomaly/fast`,
    );
    // One config's tagged spans or the comparison, not both at once.
    const both = await hourglass([...args, '--spans', '-'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toBe(
      'hourglass replay: --spans writes the spans one config tagged: leave out --compare, or --spans\n',
    );
  });

  it('says which file it cannot read, and exits 2', async () => {
    const dir = tempDir();
    const missing = join(dir, 'no-such-export.jsonl');
    const r = await hourglass(['replay', missing], { HOURGLASS_DATA_DIR: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`hourglass replay: ${missing}: cannot read (ENOENT)\n`);
  });
});

describe('a closed stdout (hourglass ... | head) ends every command quietly', () => {
  it.each([
    ['--help'],
    ['validate', '--config', 'otel-config.yaml'],
    ['recalculate'],
    ['backfill', 'FILES'],
    ['replay', 'JUDGED'],
  ])('hourglass %s', async (...args: string[]) => {
    const dir = tempDir();
    const argv = args.flatMap((a) =>
      a === 'FILES'
        ? otlpJsonFiles(dir, 3).flatMap((f) => ['--file', f])
        : a === 'JUDGED'
          ? otlpJsonFiles(dir, 2)
          : [a],
    );
    // recalculate works on the database a sidecar (here: a backfill) left.
    if (args[0] === 'recalculate') {
      const files = otlpJsonFiles(dir, 1).flatMap((f) => ['--file', f]);
      expect((await hourglass(['backfill', ...files], { HOURGLASS_DATA_DIR: dir })).code).toBe(0);
    }
    const r = await hourglass(argv, { HOURGLASS_DATA_DIR: dir }, { closedStdout: true });
    expect(r.stderr).not.toMatch(STACK);
    expect(r.stderr).not.toContain('EPIPE');
    expect(r.code).toBe(0);
  });

  it('hourglass run: stops gracefully, as on SIGTERM', async () => {
    const dir = tempDir();
    const endpoints = await shippedEndpoints();
    const file = join(dir, 'otel-config.yaml');
    writeFileSync(
      file,
      `receivers: { otlp: { protocols: { http: { endpoint: "${endpoints['HOURGLASS_HTTP_ENDPOINT']}" } } } }
exporters: { debug: { verbosity: detailed } }
service:
  pipelines: { traces: { receivers: [otlp], exporters: [debug] } }
  telemetry: { metrics: { level: none } }
`,
    );
    const sidecar = new SidecarProcess(['run', '--config', file], {}, { closedStdout: true });
    cleanups.push(() => sidecar.kill('SIGKILL'));
    await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
    const res = await fetch(`http://${endpoints['HOURGLASS_HTTP_ENDPOINT']}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: traceRequest(3),
    });
    expect(res.status).toBe(200);
    expect(await sidecar.exited).toBe(0);
    expect(sidecar.logs).toContainEqual(
      expect.objectContaining({
        signal: 'stdout closed',
        msg: 'shutting down: stopping receivers, draining the pipeline',
      }),
    );
    expect(sidecar.stderrText).not.toMatch(STACK);
  });
});

describe('hourglass run with a data directory it cannot create', () => {
  // Node 20's recursive mkdir never returns under /proc (it retries the parent at 100% CPU): the
  // sidecar hung at start without a word.
  it.runIf(existsSync('/proc/self'))(
    'says which directory it cannot create, and serves without storage',
    async () => {
      const env: Record<string, string> = {
        ...(await shippedEndpoints()),
        HOURGLASS_DATA_DIR: '/proc/hourglass-nope',
      };
      const sidecar = new SidecarProcess(['run'], env);
      cleanups.push(() => sidecar.kill('SIGKILL'));
      const failed = await sidecar.waitForLog(
        (l) => l.msg === 'cannot open the baseline database; detection continues from memory',
      );
      expect(JSON.stringify(failed)).toContain(
        'cannot create the directory of the baseline database /proc/hourglass-nope/hourglass.db',
      );
      await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
      const up = await hourglass(['healthcheck'], env);
      expect(up.code).toBe(0);
      sidecar.kill('SIGTERM');
      expect(await sidecar.exited).toBe(0);
    },
  );
});

describe('hourglass healthcheck', () => {
  it('follows the telemetry address of the config that run reads (HOURGLASS_CONFIG)', async () => {
    const dir = tempDir();
    const env: Record<string, string> = {
      ...(await shippedEndpoints()),
      HOURGLASS_DATA_DIR: dir,
      HOURGLASS_CONFIG: join(ROOT, 'otel-config.yaml'),
    };
    const down = await hourglass(['healthcheck'], env);
    expect(down.code).toBe(1);
    expect(down.stderr).toBe(
      `http://${env['HOURGLASS_TELEMETRY_ENDPOINT']}/readyz: no answer (ECONNREFUSED)\n`,
    );
    const sidecar = new SidecarProcess(['run'], env);
    cleanups.push(() => sidecar.kill('SIGKILL'));
    await sidecar.waitForLog((l) => l.msg === 'hourglass is running');
    const up = await hourglass(['healthcheck'], env);
    expect(up.stdout).toBe(`http://${env['HOURGLASS_TELEMETRY_ENDPOINT']}/readyz: ready\n`);
    expect(up.code).toBe(0);
    sidecar.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
  });

  it('asks the loopback address when the telemetry endpoint listens on every interface', async () => {
    const dir = tempDir();
    const [address] = Object.values(await shippedEndpoints());
    const port = address!.split(':')[1]!;
    const r = await hourglass(['healthcheck', '--timeout', '500ms'], {
      HOURGLASS_CONFIG: join(ROOT, 'otel-config.yaml'),
      HOURGLASS_TELEMETRY_ENDPOINT: `0.0.0.0:${port}`,
      HOURGLASS_DATA_DIR: dir,
    });
    expect(r.stderr).toBe(`http://127.0.0.1:${port}/readyz: no answer (ECONNREFUSED)\n`);
    expect(r.code).toBe(1);
  });

  it('waits for a slow answer with --timeout 1000h (it gave up after 1 ms: a timer past 24.8 days)', async () => {
    const server = http.createServer((_req, res) => {
      setTimeout(() => res.end('{"status":"ready"}'), 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const port = (server.address() as net.AddressInfo).port;
    const r = await hourglass(['healthcheck', '--timeout', '1000h'], {
      HOURGLASS_CONFIG: join(ROOT, 'otel-config.yaml'),
      HOURGLASS_TELEMETRY_ENDPOINT: `127.0.0.1:${port}`,
      HOURGLASS_DATA_DIR: tempDir(),
    });
    expect([r.code, r.stdout, r.stderr]).toEqual([
      0,
      `http://127.0.0.1:${port}/readyz: ready\n`,
      '',
    ]);
  });
});
