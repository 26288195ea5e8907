import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JoinedBatch, batchOf } from '../../../src/component/consumer.js';
import { PersistentQueue } from '../../../src/exporters/helper/persistent-queue.js';
import { WARN, memoryLogger, useTempDirs } from '../harness.js';
import { payloadFor } from './fixtures/queue-payload.js';

const tempDir = useTempDirs();

async function openQueue(dir: string, capacity = 100) {
  const { logger, lines } = memoryLogger();
  const queue = new PersistentQueue(dir, capacity, 'traces', logger);
  await queue.open();
  return { queue, lines };
}

const batch = (n: number) => batchOf('traces', payloadFor(n), (n % 7) + 1);

/** Takes everything waiting, one entry at a time, and returns the payload numbers. */
async function drain(queue: PersistentQueue): Promise<number[]> {
  queue.close();
  const out: number[] = [];
  for (;;) {
    const entries = await queue.take(0);
    if (!entries) return out;
    for (const e of entries) {
      const n = Buffer.from(e.batch.bytes).readUInt32LE(0);
      expect(Buffer.from(e.batch.bytes)).toEqual(payloadFor(n));
      expect(e.batch.items).toBe((n % 7) + 1);
      out.push(n);
    }
  }
}

describe('persistent queue', () => {
  it('has the batch on disk, complete, when offer() resolves', async () => {
    const dir = tempDir();
    const { queue } = await openQueue(dir);
    expect(await queue.offer(batch(7))).toBe(true);
    const files = readdirSync(dir);
    expect(files).toEqual(['0000000000000001.batch']);
    const data = readFileSync(join(dir, files[0]!));
    expect(data.subarray(16)).toEqual(payloadFor(7));
    expect(queue.held()).toBe(1);
  });

  it("writes a batch made of parts (the batch processor's) as one entry, checksum and all", async () => {
    const dir = tempDir();
    const { queue } = await openQueue(dir);
    const payload = payloadFor(9);
    const parts = [payload.subarray(0, 10), payload.subarray(10)];
    expect(await queue.offer(new JoinedBatch('traces', parts, 3))).toBe(true);
    queue.close();
    const reopened = await openQueue(dir);
    const [entry] = (await reopened.queue.take(0))!;
    expect(Buffer.from(entry!.batch.bytes)).toEqual(payload);
    expect(reopened.lines.filter((l) => l.level >= WARN)).toEqual([]);
  });

  it('replays what the last run left, oldest first, and removes entries once done', async () => {
    const dir = tempDir();
    const first = await openQueue(dir);
    for (const n of [1, 2, 3, 4]) await first.queue.offer(batch(n));
    const taken = await first.queue.take(0);
    await first.queue.done(taken!);
    expect(readdirSync(dir)).toHaveLength(3);

    const second = await openQueue(dir);
    expect(second.queue.held()).toBe(3);
    expect(second.lines.map((l) => l.msg)).toEqual([
      'replaying batches kept in the persistent queue by the last run',
    ]);
    await second.queue.offer(batch(5));
    expect(await drain(second.queue)).toEqual([2, 3, 4, 5]);
  });

  it('hands out waiting entries merged up to maxBytes (at least one)', async () => {
    const dir = tempDir();
    const { queue } = await openQueue(dir);
    for (const n of [0, 0, 0, 0]) await queue.offer(batch(n)); // 100 bytes each
    const big = await queue.take(250);
    expect(big!.map((e) => e.batch.bytes.length)).toEqual([100, 100]);
    expect((await queue.take(50))!).toHaveLength(1);
    expect(queue.held()).toBe(4);
    queue.release(big!);
    expect(queue.held()).toBe(2);
  });

  it('is bounded: counts batches written, waiting and taken', async () => {
    const dir = tempDir();
    const { queue } = await openQueue(dir, 2);
    expect(
      await Promise.all([queue.offer(batch(1)), queue.offer(batch(2)), queue.offer(batch(3))]),
    ).toEqual([true, true, false]);
    const taken = await queue.take(0);
    expect(await queue.offer(batch(4))).toBe(false);
    await queue.done(taken!);
    expect(await queue.offer(batch(4))).toBe(true);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('skips corrupted and truncated entries with one warning, and replays the rest', async () => {
    const dir = tempDir();
    const first = await openQueue(dir);
    for (const n of [1, 2, 3, 4, 5]) await first.queue.offer(batch(n));
    const file = (seq: number) => join(dir, `${String(seq).padStart(16, '0')}.batch`);
    const flipped = readFileSync(file(2));
    flipped[40] = flipped[40]! ^ 0xff;
    writeFileSync(file(2), flipped);
    truncateSync(file(4), 60);
    truncateSync(file(5), 3);
    writeFileSync(join(dir, '0000000000000009.tmp'), 'half a write');
    writeFileSync(join(dir, 'README.txt'), 'not ours');

    const second = await openQueue(dir);
    const warnings = second.lines.filter((l) => l.level === WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toBe(
      'skipped 3 corrupted entries in the persistent queue (removed; the rest is replayed)',
    );
    expect(warnings[0]!['entries']).toEqual([
      '0000000000000002.batch: checksum mismatch',
      '0000000000000004.batch: length mismatch: the header says 488 payload bytes, the file holds 44',
      '0000000000000005.batch: truncated: 3 bytes, shorter than the header',
    ]);
    expect(await drain(second.queue)).toEqual([1, 3]);
    expect(readdirSync(dir).sort()).toEqual([
      '0000000000000001.batch',
      '0000000000000003.batch',
      'README.txt',
    ]);
  });

  it('drops an entry damaged after start-up when it is read, with a warning', async () => {
    const dir = tempDir();
    const { queue, lines } = await openQueue(dir);
    await queue.offer(batch(1));
    await queue.offer(batch(2));
    writeFileSync(join(dir, '0000000000000001.batch'), 'garbage that is long enough');
    expect(await drain(queue)).toEqual([2]);
    expect(
      lines.filter((l) => l.msg === 'dropped a damaged entry of the persistent queue'),
    ).toHaveLength(1);
    expect(queue.held()).toBe(1);
  });

  it('keeps every acknowledged batch when the writing process is killed with SIGKILL', async () => {
    const dir = tempDir();
    const acked = new Set<number>();
    // Three runs, each killed mid-write; each restart replays and keeps appending.
    for (const [run, killAfter] of [
      [0, 150],
      [1, 400],
      [2, 77],
    ] as const) {
      const got = await runAndKill(dir, run * 1_000_000, killAfter);
      for (const n of got) acked.add(n);
    }
    const { queue, lines } = await openQueue(dir, 1_000_000);
    const recovered = new Set(await drain(queue));
    const lost = [...acked].filter((n) => !recovered.has(n));
    expect(lost).toEqual([]);
    expect(acked.size).toBeGreaterThanOrEqual(150 + 400 + 77);
    expect(lines.filter((l) => l.level >= WARN)).toEqual([]);
  });
});

const WRITER = fileURLToPath(new URL('./fixtures/queue-writer.ts', import.meta.url));

/** Runs the writer until it acknowledged `killAfter` batches, SIGKILLs it, returns what it acknowledged. */
async function runAndKill(dir: string, first: number, killAfter: number): Promise<number[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, String(first)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  const acked: number[] = [];
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    acked.push(Number(line));
    if (acked.length === killAfter) child.kill('SIGKILL');
  }
  expect(await exited).toBe('SIGKILL');
  return acked;
}
