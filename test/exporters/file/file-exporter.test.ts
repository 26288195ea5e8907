import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Exporter } from '../../../src/component/component.js';
import type { Signal } from '../../../src/component/consumer.js';
import { makeFileExporterFactory } from '../../../src/exporters/file/factory.js';
import type { FileExporter } from '../../../src/exporters/file/file-exporter.js';
import { jsonToProto } from '../../../src/otlp/json-decode.js';
import { protoToJson } from '../../../src/otlp/json-encode.js';
import { logsBatch, metricsBatch, traceBatch } from '../batches.js';
import { ObservedClock, harness, settle, useTempDirs } from '../harness.js';

const tempDir = useTempDirs('hourglass-file-');
const open: Exporter[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.shutdown()));
});

function readLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

function setup(raw: Record<string, unknown>) {
  const clock = new ObservedClock();
  const factory = makeFileExporterFactory();
  const config = factory.configSchema.parse(raw);
  return {
    clock,
    async make(signal: Signal = 'traces', id = 'file') {
      const h = harness(id, clock);
      const exporter = factory.create(h.settings, config, signal) as FileExporter;
      open.push(exporter);
      await exporter.start();
      return { exporter, h };
    },
  };
}

describe('file exporter', () => {
  it('writes one OTLP/JSON export request per line, for every signal, into one file', async () => {
    const path = join(tempDir(), 'out', 'otlp.jsonl');
    const bed = setup({ path });
    const batches = [traceBatch(3), metricsBatch(2), logsBatch(4)];
    const exporters = await Promise.all(batches.map((b) => bed.make(b.signal)));
    for (const [i, b] of batches.entries()) await exporters[i]!.exporter.consume(b);
    for (const e of exporters) await e.exporter.shutdown();
    const lines = readLines(path);
    expect(lines).toHaveLength(3);
    for (const [i, b] of batches.entries()) {
      expect(Buffer.from(jsonToProto(b.signal, lines[i]!))).toEqual(Buffer.from(b.bytes));
    }
    expect(await exporters[0]!.h.metric('otelcol_exporter_sent_spans_total')).toBe(3);
    expect(await exporters[1]!.h.metric('otelcol_exporter_sent_metric_points_total')).toBe(2);
    expect(await exporters[2]!.h.metric('otelcol_exporter_sent_log_records_total')).toBe(4);
  });

  it('buffers lines until flush_interval', async () => {
    const path = join(tempDir(), 'spans.jsonl');
    const bed = setup({ path, flush_interval: '5s' });
    const { exporter } = await bed.make();
    await exporter.consume(traceBatch(1));
    await exporter.consume(traceBatch(1));
    expect(readFileSync(path, 'utf8')).toBe('');
    bed.clock.advance(4999);
    await settle();
    expect(readFileSync(path, 'utf8')).toBe('');
    bed.clock.advance(1);
    await exporter.idle();
    expect(readLines(path)).toHaveLength(2);
  });

  it('writes at once when 1 MiB is buffered (bounded buffering)', async () => {
    const path = join(tempDir(), 'spans.jsonl');
    const bed = setup({ path, flush_interval: '1h' });
    const { exporter } = await bed.make();
    const big = traceBatch([{ attributes: { 'db.statement': 'x'.repeat(600_000) } }]);
    await exporter.consume(big);
    expect(readLines(path)).toHaveLength(0);
    await exporter.consume(big);
    expect(readLines(path)).toHaveLength(2);
  });

  it('rotates by size, names backups by time, and keeps max_backups of them', async () => {
    const dir = tempDir();
    const path = join(dir, 'spans.jsonl');
    const sent = Array.from({ length: 5 }, () => traceBatch(2));
    const lineBytes = JSON.stringify(protoToJson('traces', sent[0]!.bytes)).length + 1;
    // Room for one line and a half: every second line starts a new file.
    const maxMegabytes = (lineBytes * 1.5) / (1024 * 1024);
    const bed = setup({ path, rotation: { max_megabytes: maxMegabytes, max_backups: 2 } });
    const { exporter, h } = await bed.make();
    for (const [i, b] of sent.entries()) {
      await exporter.consume(b);
      bed.clock.advance(1000);
      await exporter.idle();
      expect(await h.metric('otelcol_exporter_sent_spans_total')).toBe(2 * (i + 1));
    }
    await exporter.shutdown();
    expect(readdirSync(dir).sort()).toEqual([
      'spans-2026-01-05T00-00-04.000.jsonl',
      'spans-2026-01-05T00-00-05.000.jsonl',
      'spans.jsonl',
    ]);
    const ids = (file: string) =>
      readLines(join(dir, file)).map((l) => Buffer.from(jsonToProto('traces', l)));
    expect(ids('spans-2026-01-05T00-00-04.000.jsonl')).toEqual([Buffer.from(sent[2]!.bytes)]);
    expect(ids('spans-2026-01-05T00-00-05.000.jsonl')).toEqual([Buffer.from(sent[3]!.bytes)]);
    expect(ids('spans.jsonl')).toEqual([Buffer.from(sent[4]!.bytes)]);
  });

  it('fails to start with the path and the reason when the file cannot be opened', async () => {
    const dir = tempDir();
    const bed = setup({ path: dir });
    await expect(bed.make()).rejects.toThrow(`exporters.file: cannot open "${dir}": EISDIR`);
  });
});
