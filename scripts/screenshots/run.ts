/**
 * `npm run screenshots`: starts the seeded demo (demo.ts), opens each console page in headless
 * Chromium at desktop (1280 px) and phone (375 px) width and writes PNGs to docs/screenshots/;
 * then loads the Overview five times and prints its weight and load time, with the time of one
 * API call from the same page as the reference (README: "Web console").
 */
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, watchProblems } from '../../test/helpers/chromium.js';
import { startConsoleDemo } from './demo.js';

const OUT = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
const WIDTHS = { desktop: { width: 1280, height: 720 }, phone: { width: 375, height: 667 } };
const BASELINE = '#/baselines?service=payments&operation=POST%20%2Fv1%2Fauthorize&kind=client';
const NOT_ENABLED = ['/api/v1/incidents', '/api/v1/health', '/api/v1/incidents/stream'];

const PAGES: { name: string; hash: string; ready: (p: Page) => Promise<unknown> }[] = [
  { name: 'overview', hash: '#/overview', ready: (p) => p.waitForSelector('.tile') },
  { name: 'incidents', hash: '#/incidents', ready: (p) => p.waitForSelector('tr[data-incident]') },
  {
    name: 'incident',
    hash: '#/incidents',
    ready: async (p) => {
      await p.locator('tr[data-incident] a').first().click();
      await p.waitForSelector('article.incident figure.timeline');
    },
  },
  {
    name: 'live',
    hash: '#/live',
    ready: async (p) => {
      await p.waitForSelector('.stream-open');
      await p.locator('li.anomaly:has(.summary) summary').first().click();
    },
  },
  {
    name: 'baselines',
    hash: BASELINE,
    ready: async (p) => {
      await p.waitForSelector('#map-p50 .cell.now');
      await p.focus('#map-p50 .cell.now');
    },
  },
];

async function shoot(browser: Browser, admin: string): Promise<string[]> {
  mkdirSync(OUT, { recursive: true });
  const written: string[] = [];
  for (const [device, viewport] of Object.entries(WIDTHS)) {
    for (const page of PAGES) {
      const p = await browser.newPage({ viewport });
      const problems = watchProblems(p, NOT_ENABLED);
      await p.goto(`${admin}/${page.hash}`);
      await page.ready(p);
      await p.waitForTimeout(300); // the feed renders at most every 200 ms
      const file = join(OUT, `${page.name}-${device}.png`);
      await p.screenshot({ path: file });
      await p.close();
      if (problems.errors.length > 0)
        throw new Error(`${page.name}: ${problems.errors.join('; ')}`);
      written.push(file);
    }
  }
  return written;
}

interface Figures {
  shown: number;
  api: number;
  transferred: number;
  decoded: number;
}

/** Run in the page (a string: the page's types are not this program's). */
const MEASURE = `(async () => {
  const shown = performance.now();
  const shell = [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
    .filter((e) => !e.name.includes('/api/'));
  const t0 = performance.now();
  await (await fetch('/api/v1/baselines')).json();
  return {
    shown,
    api: performance.now() - t0,
    transferred: shell.reduce((n, e) => n + e.transferSize, 0),
    decoded: shell.reduce((n, e) => n + e.decodedBodySize, 0),
  };
})()`;

/** One cold load of the Overview until its tiles show; the API call alone as the reference. */
async function measure(browser: Browser, admin: string) {
  const context = await browser.newContext({ viewport: WIDTHS.desktop });
  const p = await context.newPage();
  await p.goto(`${admin}/#/overview`);
  await p.waitForFunction("document.querySelector('.tile') !== null", undefined, {
    polling: 'raf',
  });
  const figures = await p.evaluate<Figures>(MEASURE);
  await context.close();
  return figures;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const demo = await startConsoleDemo();
const browser = await launchChromium();
try {
  console.log(`seeded demo: console at ${demo.admin}/`);
  for (const f of await shoot(browser, demo.admin)) {
    console.log(`  ${f.slice(OUT.length)} ${statSync(f).size} B`);
  }
  const runs = [];
  for (let i = 0; i < 5; i++) runs.push(await measure(browser, demo.admin));
  const shown = median(runs.map((r) => r.shown));
  const api = median(runs.map((r) => r.api));
  console.log(
    `Overview, cold, 5 loads: tiles shown after ${shown.toFixed(0)} ms (median); ` +
      `one GET /api/v1/baselines from the page ${api.toFixed(1)} ms (ratio ${(shown / api).toFixed(1)}); ` +
      `shell ${runs[0]!.transferred} B transferred (${runs[0]!.decoded} B decoded)`,
  );
} finally {
  await browser.close();
  await demo.stop();
}
