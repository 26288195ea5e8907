import { describe, expect, it } from 'vitest';
import { TOKEN, useConsoleBed } from './harness.js';

// A fresh sidecar whose admin API needs a bearer token: nothing has been sent to it yet.
const bed = useConsoleBed({ auth: true });

describe('the web console with an authenticated admin API', () => {
  it('loads its shell without a token but no data; with the token typed in, the data', async () => {
    const { page } = await bed().page();
    const answers: [string, number][] = [];
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/')) answers.push([path, r.status()]);
    });
    const shell = await page.goto(`${bed().admin}/#/overview`);
    expect(shell!.status()).toBe(200);
    await page.waitForSelector('#token-input');
    expect(await page.textContent('main')).toContain('No data without a token');
    expect(answers.length).toBeGreaterThan(0);
    // No answer carries data: 401 (the incidents paths, which do not exist here, answer 404).
    expect(answers.filter(([, status]) => status !== 401 && status !== 404)).toEqual([]);
    const keys = answers.filter(([path]) => path === '/api/v1/baselines');
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.every(([, status]) => status === 401)).toBe(true);
    expect(await page.locator('.tile, .learning').count()).toBe(0);

    // A wrong token is refused and asked for again.
    await page.fill('#token-input', 'not-the-token');
    await page.click('.token-form button');
    await page.waitForSelector('label[for=token-input]:text("The token was refused")');

    await page.fill('#token-input', TOKEN);
    await page.click('.token-form button');
    // The fresh install says so plainly.
    await page.waitForSelector('text=Nothing yet.');
    expect(await page.evaluate('sessionStorage.getItem("hourglass.admin-token")')).toBe(TOKEN);
    expect(answers.at(-1)![1]).not.toBe(401);

    // The live stream is read with the token too (EventSource could not send it).
    await page.goto(`${bed().admin}/#/live`);
    await page.waitForSelector('.stream-open');
    expect(await page.textContent('main')).toContain('No anomalies yet');
    await page.goto(`${bed().admin}/#/baselines`);
    await page.waitForSelector('text=No baselines yet');
    await page.close();
  });

  it('serves no data to a request without the token, and the shell to anyone', async () => {
    const api = await fetch(`${bed().admin}/api/v1/baselines`);
    expect(api.status).toBe(401);
    const stream = await fetch(`${bed().admin}/api/v1/anomalies/stream`);
    expect(stream.status).toBe(401);
    const shell = await fetch(`${bed().admin}/`);
    expect(shell.status).toBe(200);
    expect(await shell.text()).not.toMatch(/"service"|anomal/);
  });
});
