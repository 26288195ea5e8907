import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import { Fleet } from '../../examples/demo/fleet.js';
import { bucketOfDayHour, TimeBuckets } from '../../src/detectors/anomaly/internal/time-buckets.js';
import { consoleSidecarConfig, ZONE } from '../../scripts/screenshots/demo.js';
import { launchChromium, watchProblems, type PageProblems } from '../helpers/chromium.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';

export { ZONE };
export const TOKEN = 'console-test-token';
const H = 3_600_000;

/** Incidents API paths that answer 404 when incidents are off (`incidents: false`). */
export const INCIDENTS_404 = ['/api/v1/incidents', '/api/v1/health', '/api/v1/incidents/stream'];

export interface ConsoleBed {
  readonly sidecar: TestSidecar;
  /** `http://127.0.0.1:port` of the admin API and console. */
  readonly admin: string;
  /** The demo shop (frontend, cart, payments) with the OpenTelemetry SDK, sending to the sidecar. */
  readonly fleet: Fleet;
  readonly browser: Browser;
  /** A new page at `width` px, its console errors collected. */
  page(width?: number): Promise<{ page: Page; problems: PageProblems }>;
  api<T>(path: string, init?: RequestInit): Promise<T>;
  /** Ends every event stream the admin API serves, as a proxy's timeout would: clients reconnect. */
  dropStreams(): void;
}

/**
 * Per test file: a real sidecar on the real clock with the demo's config (consoleSidecarConfig:
 * the console on the admin port, optionally behind `bearertokenauth`), the demo shop's services
 * sending to it with the OpenTelemetry SDK, and headless Chromium.
 */
export function useConsoleBed(o: { auth?: boolean; incidents?: boolean } = {}): () => ConsoleBed {
  let bed: ConsoleBed | undefined;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-console-'));
    const browser = await launchChromium();
    const sidecar = await startTestSidecar(
      consoleSidecarConfig(dir, {
        ...(o.auth ? { token: TOKEN } : {}),
        ...(o.incidents === false ? { incidents: false } : {}),
      }),
    );
    const admin = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    const headers: Record<string, string> = o.auth ? { authorization: `Bearer ${TOKEN}` } : {};
    bed = {
      sidecar,
      admin,
      fleet: new Fleet(`http://${sidecar.http}`),
      browser,
      async page(width = 1280) {
        const page = await browser.newPage({ viewport: { width, height: 800 } });
        return { page, problems: watchProblems(page, INCIDENTS_404) };
      },
      dropStreams() {
        const ext = sidecar.service.find<AdminExtension>('extension', 'admin')!;
        for (const s of (ext as unknown as { streams: Set<{ close(): void }> }).streams) s.close();
      },
      async api<T>(path: string, init: RequestInit = {}) {
        const res = await fetch(admin + path, {
          ...init,
          headers: { ...headers, ...init.headers },
        });
        if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
        const type = res.headers.get('content-type') ?? '';
        return (
          type.includes('json') && !type.includes('ndjson') ? await res.json() : await res.text()
        ) as T;
      },
    };
  }, 60_000);
  afterAll(async () => {
    await bed?.browser.close();
    await bed?.fleet.shutdown();
    await bed?.sidecar.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });
  return () => bed!;
}

const buckets = new TimeBuckets(ZONE);

/** The day-of-week x hour bucket (Monday 00:00 is 0) of `t` in Europe/Berlin, as the processor sees it. */
export function berlinBucket(t: number): number {
  return bucketOfDayHour(buckets.dayHour(t));
}

/** Epoch ms of `hour`:`minute` in Europe/Berlin on the day `daysAgo` days before now. */
export function berlinTime(daysAgo: number, hour: number, minute: number): number {
  const day = Date.now() - daysAgo * 24 * H;
  let t = day - (day % H) + minute * 60_000;
  while (berlinBucket(t) % 24 !== hour) t -= H;
  return t;
}
