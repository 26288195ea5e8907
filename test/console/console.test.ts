import { beforeAll, describe, expect, it } from 'vitest';
import { berlinBucket, berlinTime, useConsoleBed } from './harness.js';

interface Anomaly {
  id: string;
  trace_id: string;
  service: string;
  operation: string;
  summary: string | null;
}

// Incidents off: the console's answer to an incidents API that is not there (incidents.test.ts has them on).
const bed = useConsoleBed({ incidents: false });
/** A known bucket: three days ago, 14:00-15:00 in Europe/Berlin, where every SELECT takes 40 ms. */
const KNOWN = berlinTime(3, 14, 0);
const CART_DB = '#/baselines?service=cart&operation=SELECT%20carts&kind=client';

/** Slow checkouts now (the cart's database 100x slower); resolves once the sidecar has them. */
async function slowCheckouts(n: number): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < n; i++) bed().fleet.checkout(now - 2_000 + i, 4_000, 100);
  await bed().fleet.flush();
}

beforeAll(async () => {
  // 60 checkouts in the known bucket (cart SELECT carts at exactly 40 ms), thresholds learned.
  for (let i = 0; i < 60; i++) bed().fleet.checkout(KNOWN + i * 55_000, 40, 100 + (i % 7));
  await bed().fleet.flush();
  await bed().api('/api/v1/recalculate', { method: 'POST' });
}, 60_000);

describe('the web console in Chromium, against a real sidecar', () => {
  it.each([
    ['overview', '#/overview', '.tile'],
    ['incidents', '#/incidents', 'main .notice'],
    ['live', '#/live', '.stream-open'],
    ['baselines', CART_DB, '#map-p50 .cell.now'],
  ])('%s loads without console errors at 1280 px and at 375 px', async (_name, hash, ready) => {
    for (const width of [1280, 375]) {
      const { page, problems } = await bed().page(width);
      await page.goto(`${bed().admin}/${hash}`);
      await page.waitForSelector(ready);
      // Nothing wider than the screen at phone width: no sideways scrolling of the page.
      const scrollWidth = await page.evaluate('document.documentElement.scrollWidth');
      expect(scrollWidth).toBeLessThanOrEqual(width);
      await page.close();
      expect(problems.errors).toEqual([]);
    }
  });

  it('the Overview has one tile per service with its tagged spans and the baselines learned', async () => {
    const { page } = await bed().page();
    await page.goto(`${bed().admin}/#/overview`);
    await page.waitForSelector('.tile');
    const services = await page.$$eval('.tile', (els) =>
      els.map((e) => e.getAttribute('data-service')),
    );
    expect([...services].sort()).toEqual(['cart', 'frontend', 'payments']);
    expect(await page.textContent('.learning')).toBe('5 of 5 operations have a baseline');
    await page.close();
  });

  it('the live feed shows a new anomaly within seconds; pause holds new ones until resume', async () => {
    const { page, problems } = await bed().page();
    await page.goto(`${bed().admin}/#/live`);
    await page.waitForSelector('.stream-open');
    const before = await page.$$eval('li.anomaly', (els) =>
      els.map((e) => e.getAttribute('data-anomaly')),
    );
    await slowCheckouts(1);
    const fresh = page.locator('li.anomaly', { hasText: 'SELECT carts' }).first();
    await fresh.waitFor({ timeout: 10_000 });
    expect(before).not.toContain(await fresh.getAttribute('data-anomaly'));
    expect(await fresh.locator('.badge.sev').textContent()).toMatch(
      /^SEV[1-5] (critical|major|moderate|minor|low)$/,
    );

    await page.click('#pause');
    const shown = await page.locator('li.anomaly').count();
    await slowCheckouts(1);
    await page.waitForSelector('.stream-state:text-matches("paused: \\\\d+ new")');
    expect(await page.locator('li.anomaly').count()).toBe(shown);
    await page.click('#pause');
    await expect.poll(() => page.locator('li.anomaly').count()).toBeGreaterThan(shown);
    await page.close();
    expect(problems.errors).toEqual([]);
  });

  it('the live feed, dropped, reconnects with Last-Event-ID and shows what was tagged meanwhile', async () => {
    const { page, problems } = await bed().page();
    const asked: (string | undefined)[] = [];
    let historyReads = 0;
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/anomalies/stream')) asked.push(r.headers()['last-event-id']);
      if (r.url().includes('/api/v1/anomalies?')) historyReads++;
    });
    await page.goto(`${bed().admin}/#/live`);
    await page.waitForSelector('.stream-open');
    // Its connection dropped (a proxy's timeout, say): the server ends the streams.
    bed().dropStreams();
    await page.waitForSelector('.stream-retrying');
    // Tagged while it waits to reconnect (retry: 5000): not in the history it read at first.
    const before = await bed().api<{ anomalies: Anomaly[] }>('/api/v1/anomalies?limit=1000');
    await slowCheckouts(1);
    const after = await bed().api<{ anomalies: Anomaly[] }>('/api/v1/anomalies?limit=1000');
    const known = new Set(before.anomalies.map((a) => a.id));
    const missed = after.anomalies.filter((a) => !known.has(a.id));
    expect(missed.length).toBeGreaterThan(0);
    await page.waitForSelector('.stream-open', { timeout: 15_000 });
    for (const a of missed) {
      await page.locator(`li[data-anomaly="${a.id}"]`).waitFor({ timeout: 10_000 });
    }
    expect(asked).toHaveLength(2);
    expect(asked[0]).toBeUndefined();
    expect(asked[1]).toMatch(/^anomaly=\d+$/);
    // Sent by the stream, not re-read: the history was read once, at the start.
    expect(historyReads).toBe(1);
    await page.close();
    expect(problems.errors).toEqual([]);
  });

  it('filters the feed by service and severity', async () => {
    await slowCheckouts(1);
    const { page } = await bed().page();
    await page.goto(`${bed().admin}/#/live`);
    await page.waitForSelector('li.anomaly');
    await page.selectOption('#live-service', 'cart');
    await expect.poll(() => page.locator('li.anomaly').count()).toBeGreaterThan(0);
    const services = await page.$$eval('li.anomaly .what strong', (els) =>
      els.map((e) => e.textContent),
    );
    expect(new Set(services)).toEqual(new Set(['cart']));
    expect(page.url()).toContain('service=cart');
    // "SEVn and worse": the severity of the newest row keeps it and every row at least as severe.
    const sevs = await page.$$eval('li.anomaly .badge.sev', (els) =>
      els.map((e) => Number(e.textContent!.slice(3, 4))),
    );
    const pick = sevs[0]!;
    await page.selectOption('#live-severity', `SEV${pick}`);
    await expect
      .poll(() => page.locator('li.anomaly').count())
      .toBe(sevs.filter((n) => n <= pick).length);
    const kept = await page.$$eval('li.anomaly .badge.sev', (els) =>
      els.map((e) => Number(e.textContent!.slice(3, 4))),
    );
    for (const n of kept) expect(n).toBeLessThanOrEqual(pick);
    await page.close();
  });

  it('rating a summary in the console reaches the feedback API', async () => {
    await slowCheckouts(1);
    let summarized: Anomaly | undefined;
    await expect
      .poll(
        async () => {
          const { anomalies } = await bed().api<{ anomalies: Anomaly[] }>(
            '/api/v1/anomalies?limit=50',
          );
          summarized = anomalies.find((a) => a.summary !== null);
          return summarized !== undefined;
        },
        { timeout: 20_000 },
      )
      .toBe(true);
    const { page, problems } = await bed().page();
    await page.goto(`${bed().admin}/#/live`);
    const row = page.locator(`li[data-anomaly="${summarized!.id}"]`);
    await row.locator('summary').first().click();
    expect(await row.locator('.summary-text').textContent()).toBe(summarized!.summary);
    await row.getByLabel('2 mostly wrong').check();
    await row.locator('textarea').fill('The cart database was slow, not the cart service.');
    await row.getByRole('button', { name: 'Send rating' }).click();
    await row.locator('.feedback-state', { hasText: 'Rated 2' }).waitFor();
    const lines = (await bed().api<string>('/api/v1/training-data.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { anomaly_ids: string[]; rating: number; correction: string });
    const rated = lines.find((l) => l.anomaly_ids.includes(summarized!.id));
    expect(rated).toMatchObject({
      rating: 2,
      correction: 'The cart database was slow, not the cart service.',
    });
    await page.close();
    expect(problems.errors).toEqual([]);
  });

  it('the heatmap cell of a known bucket shows its known value, reached by keyboard', async () => {
    const { baselines } = await bed().api<{
      baselines: { buckets: { p50_ms: number; samples: number }[] }[];
    }>('/api/v1/baselines?service=cart&operation=SELECT%20carts&kind=client');
    const target = berlinBucket(KNOWN);
    const known = baselines[0]!.buckets[target]!;
    expect(known.samples).toBe(60);
    expect(known.p50_ms).toBeGreaterThan(39.5);
    expect(known.p50_ms).toBeLessThan(40.5);

    const { page, problems } = await bed().page();
    await page.goto(`${bed().admin}/${CART_DB}`);
    await page.waitForSelector('#map-p50 .cell.now');
    const now = berlinBucket(Date.now());
    expect(await page.getAttribute('#map-p50 .cell.now', 'data-i')).toBe(String(now));
    // One tab stop per map (the selected cell, "now" at first); the arrow keys move from there.
    await page.focus('#map-p50 [role=gridcell][tabindex="0"]');
    const [rows, cols] = [
      Math.floor(target / 24) - Math.floor(now / 24),
      (target % 24) - (now % 24),
    ];
    for (let i = 0; i < Math.abs(rows); i++)
      await page.keyboard.press(rows > 0 ? 'ArrowDown' : 'ArrowUp');
    for (let i = 0; i < Math.abs(cols); i++)
      await page.keyboard.press(cols > 0 ? 'ArrowRight' : 'ArrowLeft');
    expect(await page.evaluate('document.activeElement.getAttribute("data-i")')).toBe(
      String(target),
    );
    expect(await page.textContent('#slot-panel [data-field=p50]')).toBe(
      `${known.p50_ms.toFixed(1)} ms`,
    );
    expect(await page.textContent('#slot-panel [data-field=samples]')).toBe('60');
    expect(await page.getAttribute(`#map-p50 [data-i="${target}"]`, 'aria-label')).toContain(
      `p50 ${known.p50_ms.toFixed(1)} ms, 60 samples`,
    );
    // Hovering another cell shows that one's numbers.
    await page.hover(`#map-p99 [data-i="${(target + 1) % 168}"]`);
    expect(await page.textContent('#slot-panel h3')).toMatch(
      /^\w{3} \d\d:00-\d\d:00 Europe\/Berlin/,
    );
    await page.close();
    expect(problems.errors).toEqual([]);
  });
});
