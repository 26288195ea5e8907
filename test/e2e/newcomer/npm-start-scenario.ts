/**
 * A newcomer's first run, as a program (run by shipped-config.test.ts, in a private network
 * namespace when it can): the repository's `npm start` command (package.json `scripts.start`,
 * through `sh -c` as npm runs it) with the shipped otel-config.yaml and no Jaeger anywhere; spans
 * sent with the real OpenTelemetry SDK exporter to the OTLP/HTTP receiver; then, after a few
 * seconds, what the receivers accepted (their own /metrics) and what the sidecar logged.
 *
 * Environment: SCENARIO_ROOT (the checkout to run; default this one), SCENARIO_SPANS (default
 * 200), SCENARIO_WATCH_MS (how long to keep counting after the spans were sent; default 3000),
 * SCENARIO_ENDPOINTS (JSON: the HOURGLASS_*_ENDPOINT variables to set when the shipped ports
 * cannot be used). Prints one JSON object on stdout.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { LoggedProcess } from '../../helpers/process.js';
import { makeSpans } from '../../helpers/spans.js';

const root = process.env['SCENARIO_ROOT'] ?? fileURLToPath(new URL('../../../', import.meta.url));
const spans = Number(process.env['SCENARIO_SPANS'] ?? 200);
const watchMs = Number(process.env['SCENARIO_WATCH_MS'] ?? 3000);
const endpoints = JSON.parse(process.env['SCENARIO_ENDPOINTS'] ?? '{}') as Record<string, string>;
const local = (address: string) => address.replace(/^0\.0\.0\.0:/, '127.0.0.1:');
const http = local(endpoints['HOURGLASS_HTTP_ENDPOINT'] ?? 'localhost:4318');
const telemetry = local(endpoints['HOURGLASS_TELEMETRY_ENDPOINT'] ?? 'localhost:8888');

const start = (
  JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  }
).scripts.start;
const data = mkdtempSync(join(tmpdir(), 'hourglass-newcomer-'));
// Its own process group, so that the whole command can be stopped whatever `start` spawns.
const child = new LoggedProcess('sh', ['-c', start], {
  cwd: root,
  // The stores go to a temporary directory (HOURGLASS_STORAGE: what older checkouts read).
  env: {
    ...process.env,
    ...endpoints,
    HOURGLASS_DATA_DIR: data,
    HOURGLASS_STORAGE: join(data, 'hourglass.db'),
  },
  detached: true,
});

async function accepted(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${telemetry}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(
    /^otelcol_receiver_accepted_spans_total\{[^}]*transport="(\w+)"[^}]*\} (\d+)/gm,
  )) {
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

let result: Record<string, unknown>;
try {
  await child.waitForLog((l) => l.msg === 'hourglass is running', 30_000);
  const exporter = new OTLPTraceExporter({ url: `http://${http}/v1/traces` });
  const sent = makeSpans(
    'checkout',
    Array.from({ length: spans }, () => ({})),
  );
  const answer = await new Promise<{ code: number; error?: Error }>((resolve) =>
    exporter.export(sent, resolve),
  );
  await exporter.shutdown();
  // Measured, not awaited: whatever comes back in during these seconds is what a loop does.
  await new Promise((r) => setTimeout(r, watchMs));
  result = { sent: spans, exportCode: answer.code, accepted: await accepted() };
} catch (err) {
  result = { error: String(err) };
}
process.kill(-child.pid, 'SIGTERM');
let timer: NodeJS.Timeout | undefined;
const code = await Promise.race([
  child.exited,
  new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 30_000))),
]);
clearTimeout(timer);
if (code === 'timeout') process.kill(-child.pid, 'SIGKILL');
rmSync(data, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ ...result, exitCode: code, logs: child.logs })}\n`);
