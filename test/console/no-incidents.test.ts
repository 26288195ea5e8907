import { beforeAll, describe, expect, it } from 'vitest';
import { useConsoleBed } from './harness.js';

/** A sidecar whose anomaly processor runs with `incidents.enabled: false`. */
const bed = useConsoleBed({ incidents: false });

beforeAll(async () => {
  // Some traffic, so that the overview has service tiles.
  const now = Date.now();
  for (let i = 0; i < 5; i++) bed().fleet.checkout(now - 60_000 + i * 1_000, 40, 100);
  await bed().fleet.flush();
}, 60_000);

describe('the web console without incidents', () => {
  it('says plainly that incidents are not enabled when the incidents API answers 404', async () => {
    const { page } = await bed().page();
    await page.goto(`${bed().admin}/#/overview`);
    await page.waitForSelector('.tile');
    expect(await page.textContent('main')).toContain('Incidents are not enabled');
    await page.goto(`${bed().admin}/#/incidents`);
    await expect
      .poll(() => page.textContent('main'))
      .toContain('Incidents are not enabled: no incidents component is configured');
    await page.close();
  });
});
