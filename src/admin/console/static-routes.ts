import type http from 'node:http';
import { loadConsoleAssets, type Asset } from './console-assets.js';

/**
 * The browser may load and run only what this server sends: no inline script or style, no other
 * origin, no framing. Data comes from the same origin's API (`connect-src 'self'`).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths of the console: its shell at `/` and the files it loads under `/console/`. */
const PREFIX = '/console/';

/**
 * The web console's static side on the admin port (README: "Web console"): `GET /` is the shell,
 * `GET /console/<file>` its script, style and icon. Served without credentials (it holds no data;
 * every API call it makes needs them when the API does), with a content security policy, ETags
 * and gzip. The files are read once, at the first request.
 */
export class ConsoleFiles {
  private loaded: ReturnType<typeof loadConsoleAssets> | undefined;

  constructor(private readonly dir?: string) {}

  /** True when `pathname` is the console's and has been answered. */
  serve(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean {
    const name = pathname === '/' ? 'index.html' : fileName(pathname);
    if (name === undefined) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      req.resume();
      res.setHeader('Allow', 'GET, HEAD');
      plain(res, 405, `${req.method ?? ''} is not allowed on ${pathname}`);
      return true;
    }
    req.resume();
    this.loaded ??= loadConsoleAssets(this.dir);
    if ('missing' in this.loaded) {
      plain(res, 503, this.loaded.missing);
      return true;
    }
    const asset = this.loaded.assets.get(name);
    if (!asset) {
      plain(res, 404, `no such console file: ${pathname}`);
      return true;
    }
    send(req, res, asset);
    return true;
  }
}

function fileName(pathname: string): string | undefined {
  if (!pathname.startsWith(PREFIX)) return undefined;
  const name = pathname.slice(PREFIX.length);
  return /^[a-z0-9][a-z0-9._-]*$/i.test(name) ? name : '';
}

function send(req: http.IncomingMessage, res: http.ServerResponse, a: Asset): void {
  res.setHeader('Content-Type', a.type);
  res.setHeader('Cache-Control', 'no-cache');
  res.setHeader('ETag', a.etag);
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (a.type.startsWith('text/html'))
    res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304).end();
    return;
  }
  const gzip =
    a.gzip !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? a.gzip! : a.body;
  if (gzip) res.setHeader('Content-Encoding', 'gzip');
  res.setHeader('Content-Length', body.length);
  res.writeHead(200).end(req.method === 'HEAD' ? undefined : body);
}

function plain(res: http.ServerResponse, status: number, text: string): void {
  res
    .writeHead(status, {
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
    })
    .end(`${text}\n`);
}
