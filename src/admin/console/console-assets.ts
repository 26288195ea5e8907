import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Where `npm run build` puts the console (console/build.ts): the same from src/ and dist/. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../../dist/console/', import.meta.url));

/** A shell and its assets are a few files of tens of KB; anything beyond is not the console. */
const MAX_FILES = 32;
const MAX_BYTES = 4 * 1024 * 1024;

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface Asset {
  readonly type: string;
  readonly body: Buffer;
  /** The same bytes gzipped, when that is smaller. */
  readonly gzip: Buffer | undefined;
  readonly etag: string;
}

/**
 * The built console, read once into memory (with gzip and an ETag per file), by file name.
 * Undefined when it is not built (`npm run build` builds it), with the reason.
 */
export function loadConsoleAssets(
  dir = CONSOLE_DIR,
): { assets: ReadonlyMap<string, Asset> } | { missing: string } {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => TYPES[extname(n)] !== undefined);
  } catch {
    return { missing: `the console is not built (no ${dir}): run npm run build` };
  }
  if (!names.includes('index.html')) {
    return { missing: `the console is not built (no index.html in ${dir}): run npm run build` };
  }
  const assets = new Map<string, Asset>();
  let total = 0;
  for (const name of names.slice(0, MAX_FILES)) {
    const path = join(dir, name);
    total += statSync(path).size;
    if (total > MAX_BYTES) break;
    const body = readFileSync(path);
    const gzip = gzipSync(body, { level: 9 });
    assets.set(name, {
      type: TYPES[extname(name)]!,
      body,
      gzip: gzip.length < body.length ? gzip : undefined,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
    });
  }
  return { assets };
}
