/**
 * Builds the web console (console/) into dist/console/, where the admin extension serves it:
 * one ES module bundled and minified by esbuild (Preact and htm included), the stylesheet
 * minified, the shell and icon copied. Part of `npm run build`. Prints each file's size, raw and
 * gzipped (the page weight in the README).
 */
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'console');
const out = join(root, 'dist', 'console');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [
    { in: join(src, 'src', 'main.ts'), out: 'app' },
    { in: join(src, 'app.css'), out: 'app' },
  ],
  outdir: out,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  legalComments: 'none',
  logLevel: 'warning',
});
for (const file of ['index.html', 'favicon.svg']) copyFileSync(join(src, file), join(out, file));

let raw = 0;
let gzipped = 0;
const lines = readdirSync(out).map((name) => {
  const size = statSync(join(out, name)).size;
  const gz = gzipSync(readFileSync(join(out, name)), { level: 9 }).length;
  raw += size;
  gzipped += gz;
  return `  ${name.padEnd(12)} ${String(size).padStart(7)} B  ${String(gz).padStart(6)} B gzip`;
});
console.log(
  `console built in dist/console:\n${lines.join('\n')}\n  total        ${String(raw).padStart(7)} B  ${String(gzipped).padStart(6)} B gzip`,
);
