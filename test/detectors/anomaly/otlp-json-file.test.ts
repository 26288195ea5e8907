import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readOtlpJsonFile } from '../../../src/detectors/anomaly/backfill/otlp-json.js';

describe('readOtlpJsonFile (backfill --file)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('reads JSON lines whose one line holds an array of 150,000 requests', () => {
    // Not one JSON document (two lines), so it is read line by line; the first line's array was
    // pushed as 150,000 arguments: "Maximum call stack size exceeded".
    const dir = mkdtempSync(join(tmpdir(), 'hourglass-otlp-json-'));
    dirs.push(dir);
    const path = join(dir, 'export.jsonl');
    const one = '{"resourceSpans":[]}';
    writeFileSync(path, `[${Array(150_000).fill(one).join(',')}]\n${one}\n`);
    expect(readOtlpJsonFile(path)).toHaveLength(150_001);
  });
});
