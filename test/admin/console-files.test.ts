import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import { CONSOLE_DIR } from '../../src/admin/console/console-assets.js';
import { ConsoleFiles, CONTENT_SECURITY_POLICY } from '../../src/admin/console/static-routes.js';
import { launchChromium } from '../helpers/chromium.js';
import { assertBuilt } from '../helpers/process.js';
import { startTestSidecar, type TestSidecar } from '../helpers/sidecar.js';

beforeAll(() => assertBuilt());
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function admin(extra: Record<string, unknown> = {}): Promise<string> {
  const sidecar: TestSidecar = await startTestSidecar(
    stringify({
      receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
      exporters: { debug: {} },
      extensions: {
        ...extra,
        admin: {
          endpoint: '127.0.0.1:0',
          ...(extra['bearertokenauth'] ? { auth: { authenticator: 'bearertokenauth' } } : {}),
        },
      },
      service: {
        extensions: [...Object.keys(extra), 'admin'],
        pipelines: { traces: { receivers: ['otlp'], exporters: ['debug'] } },
        telemetry: { metrics: { level: 'none' } },
      },
    }),
  );
  cleanups.push(() => sidecar.shutdown());
  return `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
}

describe('admin extension: the console files', () => {
  it('serves the shell at / with a content security policy, and its files under /console/', async () => {
    const base = await admin();
    const shell = await fetch(`${base}/`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(shell.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(shell.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await shell.text();
    // Everything it loads is on this server: no other origin, nothing inline.
    for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
      expect(src[1]).toMatch(/^\/console\/[a-z.]+$/);
      expect((await fetch(base + src[1])).status).toBe(200);
    }
    expect(html).not.toMatch(/<script>|<style>|style="/);
    const js = await fetch(`${base}/console/app.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('answers gzip when asked, 304 to a matching ETag, 404 for an unknown file, 405 to POST', async () => {
    const base = await admin();
    const get = (path: string, headers: Record<string, string>) =>
      new Promise<http.IncomingMessage & { body: Buffer }>((resolve, reject) => {
        http
          .get(base + path, { headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve(Object.assign(res, { body: Buffer.concat(chunks) })));
          })
          .on('error', reject);
      });
    const plain = await get('/console/app.js', {});
    const zipped = await get('/console/app.js', { 'accept-encoding': 'gzip, br' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.body.length).toBeLessThan(plain.body.length);
    expect(gunzipSync(zipped.body).equals(plain.body)).toBe(true);
    const again = await get('/console/app.js', { 'if-none-match': plain.headers.etag! });
    expect(again.statusCode).toBe(304);
    expect(again.body.length).toBe(0);
    const missing = await fetch(`${base}/console/nothing.js`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('no such console file: /console/nothing.js\n');
    expect((await fetch(`${base}/console/..%2Fcli.js`)).status).toBe(404);
    const post = await fetch(`${base}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('needs no token for the shell when the API needs one; the API still does', async () => {
    const base = await admin({ bearertokenauth: { token: 'sekrit' } });
    expect((await fetch(`${base}/`)).status).toBe(200);
    expect((await fetch(`${base}/console/app.css`)).status).toBe(200);
    expect((await fetch(`${base}/api/v1/baselines`)).status).toBe(401);
  });

  it('says how to build it when it is not built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hourglass-console-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const files = new ConsoleFiles(dir);
    const server = http.createServer((req, res) => {
      if (!files.serve(req, res, new URL(req.url!, 'http://x').pathname)) res.writeHead(418).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toBe(
      `the console is not built (no index.html in ${dir}): run npm run build\n`,
    );
    expect((await fetch(`${base}/api/v1/x`)).status).toBe(418); // not the console's: left to the API
    expect(CONSOLE_DIR).toMatch(/dist\/console\/$/);
  });

  it('the browser tests fail, saying what to install, when there is no Chromium', async () => {
    const before = process.env['HOURGLASS_CHROMIUM'];
    process.env['HOURGLASS_CHROMIUM'] = '/nonexistent/chromium';
    cleanups.push(() => {
      if (before === undefined) delete process.env['HOURGLASS_CHROMIUM'];
      else process.env['HOURGLASS_CHROMIUM'] = before;
    });
    await expect(launchChromium()).rejects.toThrow(
      /no Chromium at \/nonexistent\/chromium: .*apt-get update && apt-get install -y chromium/,
    );
  });
});
