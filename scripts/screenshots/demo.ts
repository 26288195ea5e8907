/**
 * The console's seeded demo: a real sidecar in this process (OTLP receiver, `anomaly` processor in
 * Europe/Berlin, the built-in `llm_summary`, the `admin` extension with the console), fed by the
 * demo shop of examples/demo (frontend, cart, payments instrumented with the OpenTelemetry SDK):
 * three weeks of seasonal history up to now, thresholds recalculated, then the last hours of
 * ordinary traffic and a card-processor slowdown (12x) over the last 40 minutes. Real clock: what
 * the console shows as "now" is now.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import { startFromConfig } from '../../src/main.js';
import type { OtlpReceiver } from '../../src/receiver/otlp/otlp-receiver.js';
import { Fleet } from '../../examples/demo/fleet.js';
import { Traffic } from '../../examples/demo/traffic.js';

export const ZONE = 'Europe/Berlin';
const H = 3_600_000;
const DAY = 24 * H;

export interface ConsoleDemo {
  /** `http://127.0.0.1:port` of the admin API and console. */
  readonly admin: string;
  readonly otlp: string;
  stop(): Promise<void>;
}

/**
 * The config of the demo and of the console's browser tests: OTLP/HTTP in, the `anomaly`
 * processor (Europe/Berlin, 20 samples make a baseline), a `file` exporter standing in for Jaeger,
 * the built-in `llm_summary` summarizing every tagged trace within a second, and the `admin`
 * extension (behind `bearertokenauth` with `token`).
 */
export function consoleSidecarConfig(
  dir: string,
  o: { token?: string; incidents?: boolean } = {},
): string {
  const auth = o.token !== undefined;
  return stringify({
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
    processors: {
      anomaly: {
        storage: join(dir, 'hourglass.db'),
        timezone: ZONE,
        min_samples: 20,
        ...(o.incidents === false ? { incidents: { enabled: false } } : {}),
      },
    },
    exporters: {
      file: { path: join(dir, 'spans.jsonl') },
    },
    connectors: {
      llm_summary: {
        provider: 'builtin',
        storage: join(dir, 'summaries.db'),
        min_severity: 'SEV5',
        trace_window: '200ms',
        batch: { timeout: '200ms' },
      },
    },
    extensions: {
      ...(auth ? { bearertokenauth: { token: o.token } } : {}),
      admin: {
        endpoint: '127.0.0.1:0',
        jaeger_ui_url: 'http://localhost:16686',
        ...(auth ? { auth: { authenticator: 'bearertokenauth' } } : {}),
      },
    },
    service: {
      extensions: [...(auth ? ['bearertokenauth'] : []), 'admin'],
      pipelines: {
        traces: {
          receivers: ['otlp'],
          processors: ['anomaly'],
          exporters: ['file', 'llm_summary'],
        },
        'traces/summaries': { receivers: ['llm_summary'], exporters: ['file'] },
      },
      telemetry: { metrics: { level: 'none' } },
    },
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the demo waited ${ms / 1000} s for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startConsoleDemo(o: { weeks?: number } = {}): Promise<ConsoleDemo> {
  const dir = mkdtempSync(join(tmpdir(), 'hourglass-console-demo-'));
  const config = await loadConfigText(
    consoleSidecarConfig(dir),
    'console-demo.yaml',
    staticResolver(builtinFactories()),
  );
  const sidecar = await startFromConfig(config, { logger: pino({ level: 'silent' }) });
  const otlp = `http://${sidecar.service.find<OtlpReceiver>('receiver', 'otlp')!.addresses().http!}`;
  const admin = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
  const fleet = new Fleet(otlp);
  const traffic = new Traffic(ZONE);
  const now = Date.now();
  const play = async (from: number, to: number, slow?: { from: number; factor: number }) => {
    for (let day = from; day < to; day += DAY) {
      for (const t of traffic.checkouts(day, Math.min(to, day + DAY))) {
        const factor = slow && t.startMs >= slow.from ? slow.factor : 1;
        fleet.checkout(t.startMs, t.dbMs, t.authorizeMs * factor);
      }
      await fleet.flush();
    }
  };
  const recent = now - 6 * H;
  await play(recent - (o.weeks ?? 3) * 7 * DAY, recent);
  const recalc = await fetch(`${admin}/api/v1/recalculate`, { method: 'POST' });
  if (!recalc.ok) throw new Error(`recalculation failed: ${recalc.status} ${await recalc.text()}`);
  await play(recent, now, { from: now - 40 * 60_000, factor: 12 });
  await waitFor('the first summaries', async () => {
    const res = await fetch(`${admin}/api/v1/anomalies?limit=50&min_severity=SEV3`);
    const { anomalies } = (await res.json()) as { anomalies: { summary: string | null }[] };
    return anomalies.some((a) => a.summary !== null);
  });
  return {
    admin,
    otlp,
    async stop() {
      await fleet.shutdown();
      await sidecar.shutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
