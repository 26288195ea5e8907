import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import type { Sidecar } from '../../src/main.js';
import { httpEndpoint, startTestSidecar } from '../detectors/helpers/sidecar.js';
import {
  checkoutTrace,
  H,
  learnHistory,
  MONDAY,
  postSpans,
} from '../detectors/anomaly/incidents/traffic.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { launchChromium, watchProblems } from '../helpers/chromium.js';

interface Incident {
  id: string;
  status: string;
  resolution: string | null;
  held: { since: string; readings: number; slower_by: number | null } | null;
}

/**
 * Why an incident resolved, in the console: a real sidecar on a hand-driven clock (the incidents
 * engine resolves on its ticks), the payments service slowed four times through OTLP, each fault
 * ending another way, read by Chromium through the real admin API.
 */
describe('the console shows why an incident resolved', () => {
  const clock = new FakeClock(MONDAY + 12 * H);
  let dir = '';
  let sidecar: Sidecar | undefined;
  let browser: Browser | undefined;
  let admin = '';
  let otlp = '';
  let n = 0;
  /** Incident id by how it ended, and the one left open. */
  const ids: Record<string, string> = {};
  /** When the open one was opened (by its only tags). */
  let openedAt = 0;

  /** `count` checkouts from now, one per 100 ms; the payments call takes `paymentsMs`. */
  const traffic = (count: number, paymentsMs: number) => {
    const now = clock.now();
    return postSpans(
      otlp,
      Array.from({ length: count }, (_, i) =>
        checkoutTrace(++n, now + i * 100, { paymentsMs }),
      ).flat(),
    );
  };
  const api = async <T>(path: string): Promise<T> => (await fetch(admin + path)).json() as T;
  const latest = async () =>
    (await api<{ incidents: Incident[] }>('/api/v1/incidents')).incidents[0]!;
  /** A fault of payments (2 s calls where 50-60 ms is usual): a new incident, its id. */
  const fault = async () => {
    await traffic(5, 2_000);
    const i = await latest();
    expect(i.status).toBe('open');
    return i.id;
  };
  /** A normal call a minute after the fault, then past the 2-minute quiet period: held open. */
  const held = async (id: string) => {
    clock.advance(60_000);
    await traffic(1, 50);
    clock.advance(61_000);
    expect(await api<Incident>(`/api/v1/incidents/${id}`)).toMatchObject({ status: 'open' });
  };
  const resolvedAs = async (id: string, resolution: string) => {
    expect(await api<Incident>(`/api/v1/incidents/${id}`)).toMatchObject({
      status: 'resolved',
      resolution,
    });
    ids[resolution] = id;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hourglass-console-resolutions-'));
    browser = await launchChromium();
    sidecar = await startTestSidecar({
      clock,
      anomaly: {
        storage: join(dir, 'hg.db'),
        incidents: { quiet_period: '2m', hold_while_slower: 1.2, max_hold: '4m' },
      },
      exporters: { file: { path: join(dir, 'spans.jsonl') } },
      extensions: { admin: { endpoint: '127.0.0.1:0' } },
    });
    admin = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
    otlp = httpEndpoint(sidecar);
    await learnHistory(otlp, 1_000_000);

    // quiet: no call of payments after the fault; resolved at the end of its quiet period.
    let id = await fault();
    clock.advance(121_000);
    await resolvedAs(id, 'quiet');
    // recovered: held, then five readings of its normal speed.
    id = await fault();
    await held(id);
    for (let k = 0; k < 4; k++) {
      await traffic(1, 50);
      clock.advance(5_000);
    }
    await resolvedAs(id, 'recovered');
    // spans_stopped: held, then no call of payments for the quiet period.
    id = await fault();
    await held(id);
    clock.advance(121_000);
    await resolvedAs(id, 'spans_stopped');
    // max_hold: held, calls still coming (too few to read its speed), for max_hold (4 min).
    id = await fault();
    await held(id);
    clock.advance(30_000);
    await traffic(1, 50);
    clock.advance(60_000);
    await traffic(1, 50);
    clock.advance(30_000);
    await resolvedAs(id, 'max_hold');
    // And one still open (held, in the last case).
    openedAt = clock.now();
    ids['open'] = await fault();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await sidecar?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('in the list: each resolved incident says how it ended, the open one how long it has been open', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = watchProblems(page);
    await page.goto(`${admin}/#/incidents?status=all`);
    const status = async (id: string) => {
      const cell = page.locator(`tr[data-incident="${id}"] td[data-label="Status"]`);
      await cell.waitFor();
      return (await cell.textContent())?.trim();
    };
    expect(await status(ids['quiet']!)).toBe('resolved: quiet');
    expect(await status(ids['recovered']!)).toBe('resolved: recovered');
    expect(await status(ids['spans_stopped']!)).toBe('resolved: spans stopped');
    expect(await status(ids['max_hold']!)).toBe('resolved: held the maximum');
    expect(await status(ids['open']!)).toMatch(/^open for \d+ (min|h)/);
    await page.close();
    expect(problems.errors).toEqual([]);
  });

  it.each([
    ['quiet', 'Resolved: quiet. Nothing slow was tagged for its quiet period.'],
    ['recovered', 'back to its usual speed'],
    ['spans_stopped', 'sent no spans for its quiet period, still slower when last seen'],
    ['max_hold', 'for the longest it may be held (max_hold'],
  ])('on its page: resolved %s, in words', async (resolution, words) => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = watchProblems(page);
    await page.goto(`${admin}/#/incidents/${ids[resolution]!}`);
    await page.waitForSelector('article.incident .resolution');
    const text = await page.textContent('.resolution');
    expect(text).toContain(words);
    expect(text).toMatch(/^Resolved: [a-z ]+\. \S/);
    await page.close();
    expect(problems.errors).toEqual([]);
  });

  it('says nothing of a resolution while an incident is open', async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`${admin}/#/incidents/${ids['open']!}`);
    await page.waitForSelector('article.incident');
    expect(await page.textContent('.incident-head')).toContain('open for');
    expect(await page.locator('.resolution').count()).toBe(0);
    await page.close();
  });

  it('an open incident held past its quiet period says so: its JSON, the stream, the list, its page', async () => {
    const id = ids['open']!;
    // Not held yet: open within its quiet period; nor is any resolved one.
    expect(await api<Incident>(`/api/v1/incidents/${id}`)).toMatchObject({ held: null });
    expect(await api<Incident>(`/api/v1/incidents/${ids['max_hold']!}`)).toMatchObject({
      held: null,
    });
    const ctl = new AbortController();
    const stream = (await fetch(`${admin}/api/v1/incidents/stream`, { signal: ctl.signal })).body!;
    const reader = stream.getReader();
    let text = '';
    const events = async (until: (events: Incident[]) => boolean): Promise<Incident[]> => {
      for (;;) {
        const parsed = text
          .split('\n\n')
          .flatMap((e) => e.split('\n').filter((l) => l.startsWith('data: ')))
          .map((l) => JSON.parse(l.slice(6)) as Incident);
        if (until(parsed)) return parsed;
        const { value, done } = await reader.read();
        if (done) return parsed;
        text += new TextDecoder().decode(value);
      }
    };
    await held(id);
    const since = new Date(openedAt).toISOString();
    const v = await api<Incident>(`/api/v1/incidents/${id}`);
    expect(v).toMatchObject({ status: 'open', resolution: null, held: { since, readings: 1 } });
    expect(v.held!.slower_by).toBeGreaterThan(0);
    // The stream says so too (an `updated` event).
    const streamed = await events((es) => es.some((e) => e.id === id && e.held !== null));
    expect(streamed.find((e) => e.id === id && e.held !== null)).toMatchObject({
      change: 'updated',
      held: { since },
    });
    ctl.abort();

    const slower = `${v.held!.slower_by!.toFixed(1)}x slower`;
    const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
    const problems = watchProblems(page);
    await page.goto(`${admin}/#/incidents?status=all`);
    const cell = page.locator(`tr[data-incident="${id}"] td[data-label="Status"]`);
    await cell.waitFor();
    // `open for …`: how long by the browser's clock, not the sidecar's hand-driven one.
    const status = (await cell.textContent())?.trim();
    expect(status).toMatch(/^open for \d+ (min|h)/);
    expect(status?.endsWith(`, held: ${slower}`)).toBe(true);
    await page.goto(`${admin}/#/incidents/${id}`);
    await page.waitForSelector('article.incident .held');
    const words = await page.textContent('.held');
    expect(words).toMatch(/^Held open\. Its quiet period has passed since its last slow tag \(/);
    expect(words).toContain(`its origin is ${slower} than usual (1 of its spans read since then)`);
    expect(await page.locator('.resolution').count()).toBe(0);
    await page.close();
    expect(problems.errors).toEqual([]);
  });
});
