import { accessSync, constants } from 'node:fs';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

/** Debian's `chromium` package; HOURGLASS_CHROMIUM names another build. */
export function chromiumPath(): string {
  return process.env['HOURGLASS_CHROMIUM'] || '/usr/bin/chromium';
}

/**
 * Flags for a headless Chromium on a machine without a network: without the background-network
 * ones it keeps trying to reach Google's services. Playwright gives each launch a fresh profile
 * (a temporary --user-data-dir, removed on close).
 */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Launches headless Chromium; fails, saying what to install, when there is none. */
export async function launchChromium(): Promise<Browser> {
  const path = chromiumPath();
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `no Chromium at ${path}: the console's browser tests and screenshots need it. ` +
        'Install it with `apt-get update && apt-get install -y chromium` (Debian; .ci/run does), ' +
        'or set HOURGLASS_CHROMIUM to a Chromium binary.',
    );
  }
  return chromium.launch({ executablePath: path, args: FLAGS, chromiumSandbox: false });
}

/** What the page said on its console and threw, kept for the test to check. */
export interface PageProblems {
  readonly errors: string[];
}

/**
 * Collects console errors and uncaught exceptions of `page`. `allow404` lists API paths whose 404
 * is an expected answer (the incidents API without an incidents component): Chromium reports
 * every 404 of a fetch as a console error, and only those are let through.
 */
export function watchProblems(page: Page, allow404: readonly string[] = []): PageProblems {
  const problems: PageProblems = { errors: [] };
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() !== 'error') return;
    const url = m.location().url;
    const path = url ? new URL(url).pathname : '';
    if (/status of 404/.test(m.text()) && allow404.includes(path)) return;
    problems.errors.push(`${m.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (e) => problems.errors.push(`uncaught: ${e.message}`));
  return problems;
}
