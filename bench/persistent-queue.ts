/**
 * Throughput of the persistent sending queue (sending_queue.storage): how many batches per second
 * `offer()` makes durable (file write + fsync + rename + shared directory fsync), with one writer
 * and with many concurrent ones (as concurrent receiver requests would), and how fast a consumer
 * reads them back and removes them. Run: npx tsx bench/persistent-queue.ts [dir]
 * (the directory defaults to the OS temp dir; pass one on the disk you will use in production).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchOf } from '../src/component/consumer.js';
import { PersistentQueue } from '../src/exporters/helper/persistent-queue.js';
import { silentLogger } from '../src/telemetry/logger.js';

const base = process.argv[2] ?? tmpdir();
const SECONDS = 2;

interface Row {
  batch: string;
  writers: number;
  offersPerSec: number;
  mbPerSec: number;
  drainPerSec: number;
}

async function run(batchBytes: number, writers: number): Promise<Row> {
  const dir = mkdtempSync(join(base, 'hourglass-bench-pq-'));
  try {
    const queue = new PersistentQueue(dir, 1_000_000, 'traces', silentLogger());
    await queue.open();
    const batch = batchOf('traces', Buffer.alloc(batchBytes, 7), 512);
    let offers = 0;
    const end = performance.now() + SECONDS * 1000;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < end) {
          await queue.offer(batch);
          offers++;
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    const drainStart = performance.now();
    queue.close();
    for (;;) {
      const entries = await queue.take(0);
      if (!entries) break;
      await queue.done(entries);
    }
    const drainElapsed = (performance.now() - drainStart) / 1000;
    return {
      batch: `${batchBytes / 1024} KiB`,
      writers,
      offersPerSec: Math.round(offers / elapsed),
      mbPerSec: Math.round(((offers * batchBytes) / elapsed / 1e6) * 10) / 10,
      drainPerSec: Math.round(offers / drainElapsed),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const size of [16 * 1024, 128 * 1024, 1024 * 1024]) {
  for (const writers of [1, 16]) rows.push(await run(size, writers));
}
console.log(`persistent queue in ${base} (${SECONDS}s per row; a 512-span batch is ~100-200 KiB)`);
console.table(rows);
