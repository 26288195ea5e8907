import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../helpers/dockerfile.js';
import { assertBuilt, ROOT } from '../helpers/process.js';

describe('the console in the package and the image', () => {
  it('npm run build builds it into dist/console, which the image ships', () => {
    assertBuilt();
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts['build']).toContain('scripts/build-console.ts');
    for (const f of ['index.html', 'app.js', 'app.css', 'favicon.svg']) {
      expect(existsSync(join(ROOT, 'dist/console', f))).toBe(true);
    }
    const stages = parseDockerfile(join(ROOT, 'Dockerfile'));
    const build = stages.find((s) => s.name === 'build')!;
    const copied = build.copies.flatMap((c) => c.sources);
    // What the build reads is copied into the build stage ...
    for (const needed of [
      'tsconfig.json',
      'tsconfig.build.json',
      'src',
      'console',
      'scripts/build-console.ts',
    ]) {
      expect(copied).toContain(needed);
    }
    // ... and its dist/ (the console included) into the image.
    const runtime = stages.at(-1)!;
    expect(runtime.copies).toContainEqual({
      from: 'build',
      sources: ['/app/dist'],
      dest: './dist',
    });
  });

  it('CI installs Chromium for the browser tests', () => {
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    expect(ci).toMatch(/apt-get update\n[^\n]*apt-get install -y [^\n]*\bchromium\b[^\n]*\n/);
  });
});
