import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import type { AnomalyProcessorConfig } from '../../config.js';
import type { BaselineModel } from '../baseline-model.js';
import type { RecalcReport } from '../recalculate.js';
import { StorageError } from './open-database.js';
import { createPool, redactUrl } from './pg-connect.js';
import { migrate, PG_SCHEMA_VERSION } from './pg-schema.js';
import { keyName, PgStore } from './pg-store.js';

/** How long a backfill's recalculation waits for one an instance is running. */
const RECALC_WAIT_MS = 120_000;

/**
 * `hourglass backfill` into a fleet's PostgreSQL database. What it learned is written as the rows
 * of an instance of its own (`backfill-<host>-<pid>-<id>`) and through the change log, exactly as
 * an instance's flush writes, so the running instances merge it at their next flush as they merge
 * each other's, and a new instance reads it with the rest of the window. It reads nothing of the
 * log and registers no place in it (it holds none of the log's rows back).
 */
export class FleetSeed {
  private constructor(
    private readonly pool: pg.Pool,
    readonly store: PgStore,
    readonly label: string,
  ) {}

  /** Connects and migrates (as an instance would); a database it cannot use is a StorageError. */
  static async open(config: AnomalyProcessorConfig): Promise<FleetSeed> {
    const label = redactUrl(config.storage);
    let failure: Error | undefined;
    const pool = createPool(
      {
        url: config.storage,
        passwordFile: config.postgres.password_file,
        caFile: config.postgres.ca_file,
        timeoutMs: config.postgres.timeout,
      },
      (err) => (failure ??= err),
    );
    try {
      const client = await pool.connect();
      let version: number;
      try {
        version = Math.min(await migrate(client), PG_SCHEMA_VERSION);
      } finally {
        client.release();
      }
      const instance = `backfill-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
      return new FleetSeed(pool, new PgStore(pool, instance, version), label);
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof StorageError) throw err;
      const e = failure ?? (err as Error);
      throw new StorageError(`cannot use the shared baseline database ${label}: ${e.message}`, {
        cause: err,
      });
    }
  }

  /** Writes what `model` learned since the last write, in one transaction. */
  async write(model: BaselineModel, now: number): Promise<void> {
    const taken = [...model.keys()].filter((k) => k.pending.length > 0);
    if (taken.length === 0) return;
    const ids = await this.store.ensureKeys(taken);
    const learning = taken.flatMap((k) => {
      const id = ids.get(keyName(k));
      return id === undefined ? [] : [{ ...keyOf(k), id, rows: k.pending }];
    });
    await this.store.write({ learning, anomalies: [], summaries: [], now });
    for (const k of taken) k.pending = [];
  }

  /**
   * Recalculates the fleet's thresholds (`run`: the recalculation), holding the fleet's lock as an
   * instance does; the running instances install them at their next flush.
   */
  async recalculate(run: (store: PgStore) => Promise<RecalcReport>): Promise<RecalcReport> {
    const report = await this.store.withLock(
      'recalculation',
      () => run(this.store),
      RECALC_WAIT_MS,
    );
    if (report === undefined) {
      throw new StorageError(
        `an instance of the fleet on ${this.label} is still recalculating; the baselines are written: recalculate with POST /api/v1/recalculate on any instance once it is done`,
      );
    }
    return report;
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

function keyOf(k: { service: string; operation: string; kind: number }) {
  return { service: k.service, operation: k.operation, kind: k.kind };
}
