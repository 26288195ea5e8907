import { joinBatches, type OtlpBatch } from '../../component/consumer.js';

/** A batch held by a sending queue. */
export interface QueueEntry {
  readonly batch: OtlpBatch;
}

/**
 * The bounded queue between `consume()` and the exporter's consumers. It holds at most `capacity`
 * batches, counting those waiting and those taken but not yet `done`.
 */
export interface BatchQueue {
  readonly capacity: number;
  /** True when what is left at shutdown stays for the next start (on disk). */
  readonly persistent: boolean;
  /** Loads what a persistent queue kept from the last run. */
  open(): Promise<void>;
  /** Batches held: waiting, or taken and not yet done. */
  held(): number;
  /** Adds a batch; false when the queue is full. A persistent queue resolves once it is on disk. */
  offer(batch: OtlpBatch): Promise<boolean>;
  /**
   * The oldest waiting entries, as many as fit in `maxBytes` together (at least one); waits when
   * none is waiting. `undefined` once the queue is closed and empty.
   */
  take(maxBytes: number): Promise<QueueEntry[] | undefined>;
  /** The entries are finished with (exported, or dropped): forget them for good. */
  done(entries: readonly QueueEntry[]): Promise<void>;
  /** The entries were not exported and will not be this run (shutdown): a persistent queue keeps them. */
  release(entries: readonly QueueEntry[]): void;
  /** No more offers; consumers waiting in `take` get `undefined`. */
  close(): void;
  /** Removes the entries still waiting (shutdown); a persistent queue keeps them on disk. */
  removeWaiting(): { batches: number; items: number };
  /** Releases files and handles. */
  dispose(): Promise<void>;
}

/** The entries' batches as one export request: protobuf merges concatenated messages. */
export function mergeEntries(entries: readonly QueueEntry[]): OtlpBatch {
  return joinBatches(entries.map((e) => e.batch));
}
