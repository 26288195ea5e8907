import { readFile, readdir, unlink } from 'node:fs/promises';
import { makeDirs } from '../../component/make-dirs.js';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { sizeOf, type OtlpBatch, type Signal } from '../../component/consumer.js';
import { errorMessage } from '../../component/errors.js';
import { Coalescer } from './internal/coalesce.js';
import { QueueBase } from './internal/queue-base.js';
import {
  BATCH_SUFFIX,
  TMP_SUFFIX,
  decodeEntry,
  entryName,
  seqOf,
  syncDir,
  writeEntry,
} from './internal/queue-file.js';
import type { BatchQueue, QueueEntry } from './queue.js';

interface StoredEntry {
  readonly seq: number;
  /** Payload bytes (what merging counts). */
  readonly size: number;
  readonly items: number;
}

interface DiskEntry extends QueueEntry {
  readonly seq: number;
}

/** How many corrupted entries a start-up log line names one by one. */
const NAMED_PROBLEMS = 5;

/**
 * The sending queue on disk (`sending_queue.storage`): one file per batch in `dir`, written and
 * fsynced (file, then directory) before `offer` resolves, deleted once exported or dropped. On
 * start the files left by the last run (even one killed with SIGKILL) are checked and queued again,
 * oldest first; a corrupted or truncated file is removed with one warning instead of failing
 * start-up. Only the index lives in memory: a batch is read back when a consumer takes it.
 * Delivery is at least once: a batch exported just before a crash may be sent again.
 */
export class PersistentQueue extends QueueBase<StoredEntry> implements BatchQueue {
  readonly persistent = true;
  private nextSeq = 1;
  private readonly dirSync: Coalescer;
  private readonly writes = new Set<Promise<unknown>>();

  constructor(
    readonly dir: string,
    capacity: number,
    private readonly signal: Signal,
    private readonly logger: Logger,
  ) {
    super(
      capacity,
      (e) => e.size,
      (e) => e.items,
    );
    this.dirSync = new Coalescer(() => syncDir(dir));
  }

  async open(): Promise<void> {
    await makeDirs(this.dir);
    const files = (await readdir(this.dir)).sort();
    const problems: string[] = [];
    let items = 0;
    for (const file of files) {
      if (file.endsWith(TMP_SUFFIX)) {
        // Never acknowledged: offer() resolves only after the rename.
        await unlink(join(this.dir, file)).catch(() => undefined);
        continue;
      }
      const seq = seqOf(file);
      if (seq === undefined) continue;
      this.nextSeq = Math.max(this.nextSeq, seq + 1);
      const checked = decodeEntry(this.signal, await readFile(join(this.dir, file)));
      if (typeof checked === 'string') {
        problems.push(`${file}: ${checked}`);
        await unlink(join(this.dir, file)).catch(() => undefined);
        continue;
      }
      this.waiting.push({ seq, size: checked.bytes.length, items: checked.items });
      this.count++;
      items += checked.items;
    }
    if (problems.length > 0) {
      this.logger.warn(
        { dir: this.dir, corrupted: problems.length, entries: problems.slice(0, NAMED_PROBLEMS) },
        `skipped ${problems.length} corrupted entr${problems.length === 1 ? 'y' : 'ies'} in the persistent queue (removed; the rest is replayed)`,
      );
    }
    if (this.count > 0) {
      this.logger.info(
        { dir: this.dir, batches: this.count, items },
        'replaying batches kept in the persistent queue by the last run',
      );
    }
    if (this.count > this.capacity) {
      this.logger.warn(
        { dir: this.dir, batches: this.count, queue_size: this.capacity },
        'the persistent queue holds more batches than sending_queue.queue_size; new data is refused until it drains',
      );
    }
  }

  async offer(batch: OtlpBatch): Promise<boolean> {
    if (!this.hasRoom()) return false;
    this.count++;
    const seq = this.nextSeq++;
    const write = (async () => {
      await writeEntry(this.dir, seq, batch);
      await this.dirSync.run();
    })();
    this.writes.add(write);
    try {
      await write;
    } catch (err) {
      this.count--;
      await unlink(join(this.dir, entryName(seq) + TMP_SUFFIX)).catch(() => undefined);
      throw new Error(`cannot write to the persistent queue in ${this.dir}: ${errorMessage(err)}`, {
        cause: err,
      });
    } finally {
      this.writes.delete(write);
    }
    this.waiting.push({ seq, size: sizeOf(batch), items: batch.items });
    return true;
  }

  async take(maxBytes: number): Promise<QueueEntry[] | undefined> {
    for (;;) {
      const stored = await this.waiting.take(maxBytes);
      if (!stored) return undefined;
      const entries: DiskEntry[] = [];
      for (const s of stored) {
        const batch = await this.read(s);
        if (batch) entries.push({ seq: s.seq, batch });
      }
      if (entries.length > 0) return entries;
    }
  }

  async done(entries: readonly QueueEntry[]): Promise<void> {
    for (const e of entries) {
      this.count--;
      await this.remove((e as DiskEntry).seq);
    }
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  /** Reads an entry back, checking it again; a damaged one is removed (and logged), not sent. */
  private async read(s: StoredEntry): Promise<OtlpBatch | undefined> {
    const file = entryName(s.seq) + BATCH_SUFFIX;
    let checked: OtlpBatch | string;
    try {
      checked = decodeEntry(this.signal, await readFile(join(this.dir, file)));
    } catch (err) {
      checked = `cannot read it: ${errorMessage(err)}`;
    }
    if (typeof checked !== 'string') return checked;
    this.logger.warn(
      { dir: this.dir, entry: file, problem: checked, items: s.items },
      'dropped a damaged entry of the persistent queue',
    );
    this.count--;
    await this.remove(s.seq);
    return undefined;
  }

  private async remove(seq: number): Promise<void> {
    try {
      await unlink(join(this.dir, entryName(seq) + BATCH_SUFFIX));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.error(
          { dir: this.dir, entry: entryName(seq), err: errorMessage(err) },
          'cannot remove an exported entry from the persistent queue; it may be sent again after a restart',
        );
      }
    }
  }
}
