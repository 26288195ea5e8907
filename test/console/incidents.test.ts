import { beforeAll, describe, expect, it } from 'vitest';
import { berlinTime, useConsoleBed } from './harness.js';

interface Incident {
  id: string;
  status: string;
  severity: string;
  origin: { service: string; operation: string; peer_service: string | null } | null;
  services: { service: string; count: number }[];
}

const bed = useConsoleBed();
/** Three days ago, 14:00 in Europe/Berlin: 60 normal checkouts (the cart's SELECT at 40 ms). */
const KNOWN = berlinTime(3, 14, 0);

let incident: Incident;

beforeAll(async () => {
  for (let i = 0; i < 60; i++) bed().fleet.checkout(KNOWN + i * 55_000, 40, 100 + (i % 7));
  await bed().fleet.flush();
  await bed().api('/api/v1/recalculate', { method: 'POST' });
  // Now the cart's database is 100x slower for half a minute: one incident from real traffic.
  const now = Date.now();
  for (let i = 0; i < 30; i++) bed().fleet.checkout(now - 60_000 + i * 1_000, 4_000, 100);
  await bed().fleet.flush();
  const { incidents } = await bed().api<{ incidents: Incident[] }>('/api/v1/incidents');
  expect(incidents).toHaveLength(1);
  incident = incidents[0]!;
}, 60_000);

describe('the incident pages in Chromium, against a real sidecar with incidents on', () => {
  it('lists the incident of real traffic and shows its origin, services and timeline', async () => {
    expect(incident).toMatchObject({
      status: 'open',
      // 60 spans of history: a single span can be SEV3 at most; thirty of them in a minute are a
      // sustained slowdown, an incident.
      severity: 'SEV3',
      origin: { service: 'cart', operation: 'SELECT carts', peer_service: null },
    });
    const { page, problems } = await bed().page();
    await page.goto(`${bed().admin}/#/incidents`);
    const row = page.locator(`tr[data-incident="${incident.id}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('cart SELECT carts');
    await row.locator('a').click();
    await page.waitForSelector('article.incident');
    expect(await page.textContent('.origin')).toBe('cart SELECT carts');
    const services = await page.locator('article.incident .columns li').allTextContents();
    for (const s of incident.services) {
      expect(services.some((t) => t.startsWith(`${s.service}: `))).toBe(true);
    }
    expect(incident.services.map((s) => s.service)).toEqual(
      expect.arrayContaining(['cart', 'frontend']),
    );
    expect(await page.locator('figure.timeline').count()).toBe(1);
    expect(await page.textContent('figure.timeline')).toContain('SEV3');
    expect(await page.textContent('.incident-id')).toContain(incident.id);
    await page.close();
    expect(problems.errors).toEqual([]);
  });

  it('the incidents list, its stream dropped, reconnects with Last-Event-ID and re-reads itself', async () => {
    const { page, problems } = await bed().page();
    const asked: (string | undefined)[] = [];
    let listReads = 0;
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path === '/api/v1/incidents/stream') asked.push(r.headers()['last-event-id']);
      if (path === '/api/v1/incidents') listReads++;
    });
    await page.goto(`${bed().admin}/#/incidents`);
    await page.locator(`tr[data-incident="${incident.id}"]`).waitFor();
    await expect.poll(() => asked.length).toBe(1);
    const before = listReads;
    // Its connection dropped (a proxy's timeout, say): the server ends the streams.
    bed().dropStreams();
    // It reconnects after the server's retry: 5000, with the id the stream started at, and reads
    // the list again (whatever changed meanwhile that the stream could not send is in it).
    await expect.poll(() => asked.length, { timeout: 15_000 }).toBe(2);
    expect(asked[0]).toBeUndefined();
    expect(asked[1]).toMatch(/^\d+$/);
    await expect.poll(() => listReads, { timeout: 5_000 }).toBeGreaterThan(before);
    await page.close();
    expect(problems.errors).toEqual([]);
  });

  it('shows the affected services degraded on the Overview, the others ok', async () => {
    const { page, problems } = await bed().page();
    await page.goto(`${bed().admin}/#/overview`);
    await page.waitForSelector('.tile .health');
    const tiles = await page.locator('.tile').evaluateAll((els) =>
      els.map((e) => ({
        text: e.textContent ?? '',
        health: e.querySelector('.health')?.textContent ?? '',
      })),
    );
    const of = (service: string) => tiles.find((t) => t.text.includes(service))?.health;
    expect(of('cart')).toBe('degraded');
    expect(of('frontend')).toBe('degraded');
    expect(of('payments')).toBe('ok');
    await page.close();
    expect(problems.errors).toEqual([]);
  });
});
