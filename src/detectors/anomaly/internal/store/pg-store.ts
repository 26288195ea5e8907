import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { AnomalyRecord } from '../anomaly-record.js';
import { merge, type Moments } from '../moments.js';
import { Sketch } from '../sketch.js';
import type { SlotThresholds } from '../thresholds.js';
import { thresholdsOf, type ThresholdRow } from './baseline-store.js';
import type { KeyRow, MomentRow, SketchRow } from './threshold-store.js';
import {
  afterQuery,
  anomalyColumns,
  anomalyRow,
  fromAnomalyRow,
  historyQuery,
  countsQuery,
  type AnomalyRow,
} from './pg-history.js';
import {
  acknowledge,
  changesSince,
  logChanges,
  logRates,
  logSnapshot,
  rateColumns,
  RATE_COLUMNS,
  type LogChanges,
  type RateRow,
  type LogSnapshot,
  type Queryable,
} from './pg-changes.js';
import {
  incidentsSince,
  instancesSeen,
  trimIncidents,
  writeIncidents,
  type IncidentBatch,
  type IncidentPart,
} from './pg-incidents.js';
import { readLevels, trimLevels, writeLevels } from './pg-levels.js';
import { RECALC_LOCK, RETENTION_LOCK } from './pg-schema.js';
import type { LevelRow, StoredLevel } from '../level-saves.js';
import { thresholdColumns } from './pg-thresholds.js';
import type { AnomalyQuery } from '../anomaly-record.js';
import type { CountQuery, CountRow } from '../anomaly-counts.js';

/** A key's learning of one flush interval: its (local day, hour) rows. */
export interface KeyLearning {
  readonly service: string;
  readonly operation: string;
  readonly kind: number;
  readonly rows: readonly {
    readonly dayHour: number;
    readonly m: Moments;
    readonly sketch: Sketch;
  }[];
}

/** What one flush writes, in one transaction. */
export interface FleetFlush {
  /** Keys with their database ids (`ensureKeys` first). */
  readonly learning: readonly (KeyLearning & { readonly id: number })[];
  /** The error and traffic learning (schema 5), per key id and local (day, hour). */
  readonly rates?: readonly {
    readonly id: number;
    readonly dayHour: number;
    readonly v: Float64Array;
  }[];
  readonly anomalies: readonly AnomalyRecord[];
  readonly summaries: readonly (readonly [string, string])[];
  /** This instance's incidents (schema 6), and what to read of the others' (`since`). */
  readonly incidents?: { readonly batch: IncidentBatch; readonly since: string | undefined };
  /** This instance's levels due (schema 7; level-saves.ts). */
  readonly levels?: readonly LevelRow[];
  readonly now: number;
}

/** What a flush's transaction answered. */
export interface FlushResult {
  /** Anomaly ids whose summaries were written. */
  readonly summarized: Set<string>;
  /**
   * Incidents: local id -> fleet id adopted, the others' parts since `since`, the next `since`,
   * and the instances still running (flushed within the parts' live window).
   */
  readonly incidents?: {
    readonly adopted: Map<string, string>;
    readonly parts: IncidentPart[];
    readonly next: string;
    readonly alive: string[];
  };
}

/** Resolved incidents read at start with the open ones (the admin API's list). */
export const RECENT_INCIDENTS = 1_000;

const KEY_BATCH = 256;
const LOCK_POLL_MS = 100;

/**
 * The fleet's shared baselines in PostgreSQL. Each instance writes its learning as its own rows
 * (instance, key, local day, hour), merging into them at each flush in one transaction, and reads
 * the merge of every instance's rows: Chan's formula for the moments, a bin-wise sum for the
 * sketches, so the fleet's window is what one process would have learned from all the traffic.
 * Every method is one round trip or one transaction; nothing here is called on the traffic path.
 */
export class PgStore {
  constructor(
    private readonly pool: pg.Pool,
    readonly instance: string,
    /** The schema version this instance writes (older during a rolling update's test). */
    readonly version: number,
  ) {}

  /** Ids of the keys, created when missing (a short transaction of its own, in a fixed order). */
  async ensureKeys(
    keys: readonly { service: string; operation: string; kind: number }[],
  ): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const sorted = [...keys].sort(
      (a, b) => cmp(a.service, b.service) || cmp(a.operation, b.operation) || a.kind - b.kind,
    );
    for (let i = 0; i < sorted.length; i += KEY_BATCH) {
      const part = sorted.slice(i, i + KEY_BATCH);
      const args = [
        part.map((k) => k.service),
        part.map((k) => k.operation),
        part.map((k) => k.kind),
      ];
      await this.pool.query(
        `INSERT INTO hg_keys (service, operation, kind)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[]) ON CONFLICT DO NOTHING`,
        args,
      );
      const r = await this.pool.query<KeyRow>(
        `SELECT id, service, operation, kind FROM hg_keys
         WHERE (service, operation, kind) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::int[]))`,
        args,
      );
      for (const k of r.rows) out.set(keyName(k), k.id);
    }
    return out;
  }

  /**
   * Writes a flush in one transaction: the instance's rows merged with what it wrote before, the
   * anomalies (idempotent by id), summaries onto recorded anomalies, the incidents (schema 6), and
   * reads the other instances' incidents changed since the last flush.
   */
  async write(f: FleetFlush): Promise<FlushResult> {
    return inTransaction(this.pool, async (client) => {
      const found = new Set<string>();
      await this.writeRows(client, f.learning);
      if (this.version >= 5 && f.rates && f.rates.length > 0)
        await this.writeRates(client, f.rates);
      if (this.version >= 7 && f.levels) await writeLevels(client, this.instance, f.levels);
      if (f.anomalies.length > 0) {
        const rows = [...f.anomalies]
          .sort((a, b) => cmp(a.id, b.id))
          .map((r) => anomalyRow(r, this.instance));
        const cols = anomalyColumns(this.version);
        await client.query(
          `INSERT INTO hg_anomalies (${cols.map((c) => c.name).join(', ')})
           SELECT * FROM unnest(${cols.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')})
           ON CONFLICT (id) DO NOTHING`,
          cols.map((_c, i) => rows.map((r) => r[i])),
        );
      }
      for (const [id, summary] of f.summaries) {
        const r = await client.query('UPDATE hg_anomalies SET summary = $1 WHERE id = $2', [
          summary,
          id,
        ]);
        if ((r.rowCount ?? 0) > 0) found.add(id);
      }
      if (this.version >= 2) {
        await client.query('UPDATE hg_instances SET seen_at = $2 WHERE instance = $1', [
          this.instance,
          f.now,
        ]);
      }
      if (this.version < 6 || !f.incidents) return { summarized: found };
      const adopted = await writeIncidents(client, this.instance, f.incidents.batch);
      const read = await incidentsSince(client, this.instance, f.incidents.since, RECENT_INCIDENTS);
      const alive = await instancesSeen(client, f.incidents.batch.live.at);
      return { summarized: found, incidents: { adopted, ...read, alive } };
    });
  }

  /** The levels to take up at start (schema 7; pg-levels.ts): this instance's, else the latest. */
  async levels(): Promise<StoredLevel[]> {
    return this.version >= 7 ? readLevels(this.pool, this.instance) : [];
  }

  /**
   * Every instance's open incident parts and the last resolved ones, and the instances that
   * flushed at or after `aliveAt` (schema 6; at start).
   */
  async incidents(
    aliveAt: number,
  ): Promise<{ parts: IncidentPart[]; next: string; alive: string[] } | undefined> {
    if (this.version < 6) return undefined;
    const read = await incidentsSince(this.pool, this.instance, undefined, RECENT_INCIDENTS);
    return { ...read, alive: await instancesSeen(this.pool, aliveAt) };
  }

  private async writeRows(client: pg.PoolClient, learning: FleetFlush['learning']): Promise<void> {
    // Rows of one (key, day, hour) merged first (learning held through an outage may repeat one).
    const merged = new Map<
      string,
      { id: number; day: number; hour: number; m: Moments; sketch: Sketch }
    >();
    for (const k of learning) {
      for (const row of k.rows) {
        const day = Math.floor(row.dayHour / 24);
        const hour = row.dayHour - day * 24;
        const at = `${k.id}/${day}/${hour}`;
        const r = merged.get(at);
        if (r) {
          merge(r.m, row.m);
          r.sketch.merge(row.sketch);
        } else {
          const sketch = new Sketch();
          sketch.merge(row.sketch);
          merged.set(at, { id: k.id, day, hour, m: { ...row.m }, sketch });
        }
      }
    }
    if (merged.size === 0) return;
    const rows = [...merged.values()].sort(
      (a, b) => a.id - b.id || a.day - b.day || a.hour - b.hour,
    );
    // What this flush learned goes to the change log as it is (the others merge it into theirs).
    if (this.version >= 4) await logChanges(client, this.instance, rows);
    const ids = rows.map((r) => r.id);
    const days = rows.map((r) => r.day);
    const hours = rows.map((r) => r.hour);
    const old = await client.query<SketchRow>(
      `SELECT key_id, day, hour, count, mean, m2, sketch FROM hg_daily
       WHERE instance = $1 AND (key_id, day, hour) IN (SELECT * FROM unnest($2::int[], $3::int[], $4::int[]))`,
      [this.instance, ids, days, hours],
    );
    for (const o of old.rows) {
      const r = merged.get(`${o.key_id}/${o.day}/${o.hour}`);
      if (!r) continue;
      r.m = merge({ count: o.count, mean: o.mean, m2: o.m2 }, r.m);
      const s = Sketch.decode(o.sketch);
      s.merge(r.sketch);
      r.sketch = s;
    }
    await client.query(
      `INSERT INTO hg_daily (key_id, day, hour, instance, count, mean, m2, sketch)
       SELECT k, d, h, $4, c, mu, m2, s
       FROM unnest($1::int[], $2::int[], $3::int[], $5::bigint[], $6::float8[], $7::float8[], $8::bytea[])
         AS t (k, d, h, c, mu, m2, s)
       ON CONFLICT (key_id, day, hour, instance) DO UPDATE SET count = EXCLUDED.count,
         mean = EXCLUDED.mean, m2 = EXCLUDED.m2, sketch = EXCLUDED.sketch, xid = pg_current_xact_id()`,
      [
        ids,
        days,
        hours,
        this.instance,
        rows.map((r) => r.m.count),
        rows.map((r) => r.m.mean),
        rows.map((r) => r.m.m2),
        rows.map((r) => Buffer.from(r.sketch.encode())),
      ],
    );
  }

  /** Adds the rate rows to this instance's (sums) and to the change log. */
  private async writeRates(client: pg.PoolClient, rates: NonNullable<FleetFlush['rates']>) {
    const merged = new Map<string, { id: number; day: number; hour: number; v: Float64Array }>();
    for (const r of rates) {
      const day = Math.floor(r.dayHour / 24);
      const at = `${r.id}/${r.dayHour}`;
      const row = merged.get(at);
      if (row) for (let k = 0; k < row.v.length; k++) row.v[k]! += r.v[k]!;
      else merged.set(at, { id: r.id, day, hour: r.dayHour - day * 24, v: Float64Array.from(r.v) });
    }
    const rows = [...merged.values()].sort(
      (a, b) => a.id - b.id || a.day - b.day || a.hour - b.hour,
    );
    await logRates(client, this.instance, rows);
    await client.query(
      `INSERT INTO hg_rates (key_id, day, hour, ${RATE_COLUMNS.join(', ')}, instance)
       SELECT *, $9::text FROM unnest($1::int[], $2::int[], $3::int[], $4::float8[], $5::float8[],
         $6::float8[], $7::float8[], $8::float8[])
       ON CONFLICT (key_id, day, hour, instance) DO UPDATE SET
         ${RATE_COLUMNS.map((c) => `${c} = hg_rates.${c} + EXCLUDED.${c}`).join(', ')}`,
      [...rateColumns(rows), this.instance],
    );
  }

  /** The fleet's error and traffic rows of some keys from `sinceDay` (every instance's summed). */
  async rateRows(
    sinceDay: number,
    keyIds: readonly number[],
    db: Queryable = this.pool,
  ): Promise<Map<number, RateRow[]>> {
    const out = new Map<number, RateRow[]>();
    if (this.version < 5) return out;
    const r = await db.query<RateRow>(
      `SELECT key_id, day, hour, ${RATE_COLUMNS.map((c) => `sum(${c}) AS ${c}`).join(', ')}
       FROM hg_rates WHERE day >= $1 AND key_id = ANY($2::int[]) GROUP BY key_id, day, hour`,
      [sinceDay, keyIds],
    );
    for (const row of r.rows) {
      let list = out.get(row.key_id);
      if (!list) out.set(row.key_id, (list = []));
      list.push(row);
    }
    return out;
  }

  /**
   * Keys whose rows other instances changed since `since` (a snapshot's xmin, from the last call;
   * undefined: none yet), and the xmin to pass next time. Rows of transactions still running now
   * are at or above the new xmin, so none is missed; a key may be reported twice.
   */
  async changedKeys(since: string | undefined): Promise<{ ids: number[]; next: string }> {
    const xmin = await this.pool.query<{ x: string }>(
      'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x',
    );
    const next = xmin.rows[0]!.x;
    if (since === undefined) return { ids: [], next };
    const r = await this.pool.query<{ key_id: number }>(
      'SELECT DISTINCT key_id FROM hg_daily WHERE xid >= $1::xid8 AND instance <> $2',
      [since, this.instance],
    );
    return { ids: r.rows.map((x) => x.key_id), next };
  }

  /**
   * Runs `fn` in a read-only REPEATABLE READ transaction: every read it makes (`db`) sees one
   * snapshot, the one `snapshot` names, so the change log read next time starts exactly there.
   */
  async reading<T>(fn: (db: Queryable, snapshot: LogSnapshot) => Promise<T>): Promise<T> {
    return inTransaction(
      this.pool,
      async (client) => fn(client, await logSnapshot(client)),
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  /** Other instances' changes since the snapshot `since` (schema 4; see pg-changes.ts). */
  changes(db: Queryable, since: string, sinceDay: number): Promise<LogChanges> {
    return changesSince(db, since, this.instance, sinceDay, this.version >= 5);
  }

  /** Records that this instance has read the log up to `xmin`, and prunes what all have read. */
  acknowledge(xmin: bigint | undefined): Promise<number> {
    return inTransaction(this.pool, (client) =>
      acknowledge(client, this.instance, xmin, this.version >= 5),
    );
  }

  async keys(ids?: readonly number[], db: Queryable = this.pool): Promise<KeyRow[]> {
    const r =
      ids === undefined
        ? await db.query<KeyRow>('SELECT id, service, operation, kind FROM hg_keys ORDER BY id')
        : await db.query<KeyRow>(
            'SELECT id, service, operation, kind FROM hg_keys WHERE id = ANY($1::int[]) ORDER BY id',
            [ids],
          );
    return r.rows;
  }

  /** The fleet's daily rows of some keys (every instance's merged), moments only. */
  async momentRows(
    sinceDay: number,
    keyIds: readonly number[],
    db: Queryable = this.pool,
  ): Promise<Map<number, MomentRow[]>> {
    const out = new Map<number, MomentRow[]>();
    for (let i = 0; i < keyIds.length; i += KEY_BATCH) {
      const r = await db.query<MomentRow>(
        `SELECT key_id, day, hour, count, mean, m2 FROM hg_daily
         WHERE day >= $1 AND key_id = ANY($2::int[]) ORDER BY key_id, day, hour, instance`,
        [sinceDay, keyIds.slice(i, i + KEY_BATCH)],
      );
      for (const row of mergeRows(r.rows, false)) {
        let list = out.get(row.key_id);
        if (!list) out.set(row.key_id, (list = []));
        list.push(row);
      }
    }
    return out;
  }

  /** One key's daily rows with sketches, every instance's merged per (day, hour). */
  async keyRows(keyId: number, sinceDay: number): Promise<SketchRow[]> {
    const r = await this.pool.query<SketchRow>(
      `SELECT key_id, day, hour, count, mean, m2, sketch FROM hg_daily
       WHERE key_id = $1 AND day >= $2 ORDER BY day, hour, instance`,
      [keyId, sinceDay],
    );
    return mergeRows(r.rows, true) as SketchRow[];
  }

  async thresholds(keyId?: number): Promise<Map<number, SlotThresholds[]>> {
    const r =
      keyId === undefined
        ? await this.pool.query<ThresholdRow>('SELECT * FROM hg_thresholds ORDER BY key_id, slot')
        : await this.pool.query<ThresholdRow>(
            'SELECT * FROM hg_thresholds WHERE key_id = $1 ORDER BY slot',
            [keyId],
          );
    return thresholdsOf(r.rows);
  }

  /** Replaces one key's thresholds, in a transaction. */
  async saveThresholds(keyId: number, slots: readonly SlotThresholds[]): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      await client.query('DELETE FROM hg_thresholds WHERE key_id = $1', [keyId]);
      if (slots.length === 0) return;
      await client.query(
        `INSERT INTO hg_thresholds (key_id, slot, samples, mean, stddev, p50, p95, p99, z5, z4, z3, z2, z1, source, computed_at)
         SELECT * FROM unnest($1::int[], $2::int[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[],
           $7::float8[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[], $13::float8[],
           $14::text[], $15::bigint[])`,
        thresholdColumns(keyId, slots),
      );
    });
  }

  async generation(name: 'baselines' | 'thresholds'): Promise<number> {
    const r = await this.pool.query<{ value: string }>(
      'SELECT value FROM hg_meta WHERE name = $1',
      [`${name}_generation`],
    );
    return Number(r.rows[0]?.value ?? 0);
  }

  async bumpGeneration(name: 'baselines' | 'thresholds'): Promise<number> {
    const r = await this.pool.query<{ value: string }>(
      `INSERT INTO hg_meta (name, value) VALUES ($1, '1')
       ON CONFLICT (name) DO UPDATE SET value = (hg_meta.value::bigint + 1)::text RETURNING value`,
      [`${name}_generation`],
    );
    return Number(r.rows[0]!.value);
  }

  /** Claims the recalculation scheduled at `scheduledAt` for this instance: false if another did. */
  async claimRecalculation(scheduledAt: number, now: number): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO hg_recalculations (scheduled_at, instance, started_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [scheduledAt, this.instance, now],
    );
    return (r.rowCount ?? 0) > 0;
  }

  /**
   * Runs `fn` holding the fleet's advisory lock `which` (a session lock on a connection of its
   * own); resolves undefined when another instance still holds it after `waitMs`.
   */
  async withLock<T>(
    which: 'recalculation' | 'retention',
    fn: () => Promise<T>,
    waitMs = 0,
  ): Promise<T | undefined> {
    const id = which === 'recalculation' ? RECALC_LOCK : RETENTION_LOCK;
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      // Polled, not a blocking pg_advisory_lock: no statement waits longer than the timeout.
      const deadline = performance.now() + waitMs;
      for (;;) {
        const got = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [
          id,
        ]);
        if (got.rows[0]!.ok) break;
        if (performance.now() >= deadline) return undefined;
        await sleep(LOCK_POLL_MS);
      }
      try {
        return await fn();
      } finally {
        // A lost connection releases the lock with it.
        await client
          .query('SELECT pg_advisory_unlock($1)', [id])
          .catch((err: Error) => (broken = err));
      }
    } catch (err) {
      broken = err instanceof Error ? err : new Error(String(err));
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /**
   * Retention for the fleet: anomalies recorded before `recordedBefore` (and the oldest beyond
   * `maxHistory` rows), daily rows of every
   * instance before `day`, then keys without rows and their thresholds. Idempotent.
   */
  async retention(
    day: number,
    recordedBefore: number,
    incidents?: { readonly before: number; readonly maxStored: number },
    now = recordedBefore,
    maxHistory?: number,
  ): Promise<{ rows: number; keys: number; anomalies: number; incidents: number }> {
    return inTransaction(this.pool, async (client) => {
      const run = async (sql: string, args: unknown[] = []) =>
        (await client.query(sql, args)).rowCount ?? 0;
      let anomalies = await run('DELETE FROM hg_anomalies WHERE recorded_at < $1', [
        recordedBefore,
      ]);
      // Then the oldest recorded beyond `max_history` rows.
      if (maxHistory !== undefined) {
        anomalies += await run(
          `DELETE FROM hg_anomalies WHERE id IN
             (SELECT id FROM hg_anomalies ORDER BY recorded_at DESC OFFSET $1)`,
          [maxHistory],
        );
      }
      const parts =
        this.version >= 6 && incidents
          ? await trimIncidents(client, incidents.before, incidents.maxStored)
          : 0;
      let rows = await run('DELETE FROM hg_daily WHERE day < $1', [day]);
      if (this.version >= 5) rows += await run('DELETE FROM hg_rates WHERE day < $1', [day]);
      // A key with error and traffic rows only (every span failed) is kept with them.
      const keys = await run(
        `DELETE FROM hg_keys k WHERE NOT EXISTS (SELECT 1 FROM hg_daily d WHERE d.key_id = k.id)${
          this.version >= 5
            ? ' AND NOT EXISTS (SELECT 1 FROM hg_rates r WHERE r.key_id = k.id)'
            : ''
        }`,
      );
      if (keys > 0) {
        await run(
          'DELETE FROM hg_thresholds t WHERE NOT EXISTS (SELECT 1 FROM hg_keys k WHERE k.id = t.key_id)',
        );
      }
      if (this.version >= 7) await trimLevels(client, now);
      return { rows, keys, anomalies, incidents: parts };
    });
  }

  async history(q: AnomalyQuery): Promise<AnomalyRecord[]> {
    const { sql, args } = historyQuery(q, this.version);
    const r = await this.pool.query<AnomalyRow>(sql, args);
    return r.rows.map(fromAnomalyRow);
  }

  /**
   * What an event stream of this instance missed after `seq` (`afterQuery`); undefined when that
   * place is not `known` and not in the history (unknown, deleted, another instance's), or before
   * schema 8.
   */
  async after(
    seq: number,
    known: boolean,
    q: Omit<AnomalyQuery, 'limit' | 'sinceMs'>,
    limit: number,
  ): Promise<AnomalyRecord[] | undefined> {
    if (this.version < 8) return undefined;
    if (!known) {
      const known = await this.pool.query(
        'SELECT 1 FROM hg_anomalies WHERE instance = $1 AND seq = $2',
        [this.instance, seq],
      );
      if (known.rowCount === 0) return undefined;
    }
    const { sql, args } = afterQuery(this.instance, seq, q, limit);
    return (await this.pool.query<AnomalyRow>(sql, args)).rows.map(fromAnomalyRow);
  }

  async counts(q: CountQuery): Promise<CountRow[]> {
    const { sql, args } = countsQuery(q);
    return (await this.pool.query<CountRow>(sql, args)).rows;
  }

  /** Registers this instance with the schema version it runs (rolling updates show in it). */
  async register(now: number): Promise<void> {
    if (this.version < 2) return;
    await this.pool.query(
      `INSERT INTO hg_instances (instance, schema_version, started_at, seen_at) VALUES ($1, $2, $3, $3)
       ON CONFLICT (instance) DO UPDATE SET schema_version = EXCLUDED.schema_version, seen_at = EXCLUDED.seen_at`,
      [this.instance, this.version, now],
    );
    // Its place in the change log, before its first snapshot: nothing it will read is pruned.
    if (this.version >= 4) await this.acknowledge(undefined);
  }
}

/** Runs `fn` in a transaction on a connection of its own; a failed connection is discarded. */
async function inTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const out = await fn(client);
    await client.query('COMMIT');
    client.release();
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(err instanceof Error ? err : true);
    throw err;
  }
}

/** `service\0operation\0kind`: a key's name in maps. */
export function keyName(k: { service: string; operation: string; kind: number }): string {
  return `${k.service}\0${k.operation}\0${k.kind}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Merges consecutive rows of one (key, day, hour) (instances' partial rows) into one. */
function mergeRows(
  rows: readonly SketchRow[] | readonly MomentRow[],
  sketches: boolean,
): MomentRow[] {
  const out: (MomentRow & { sketch?: Uint8Array })[] = [];
  let cur:
    | {
        key_id: number;
        day: number;
        hour: number;
        m: Moments;
        sketch: Sketch | undefined;
        first: Uint8Array | undefined;
      }
    | undefined;
  const close = () => {
    if (!cur) return;
    const sketch = cur.sketch ? cur.sketch.encode() : cur.first;
    out.push({
      key_id: cur.key_id,
      day: cur.day,
      hour: cur.hour,
      count: cur.m.count,
      mean: cur.m.mean,
      m2: cur.m.m2,
      ...(sketch ? { sketch } : {}),
    });
  };
  for (const r of rows) {
    const blob = sketches ? (r as SketchRow).sketch : undefined;
    if (cur && cur.key_id === r.key_id && cur.day === r.day && cur.hour === r.hour) {
      merge(cur.m, r);
      if (blob) {
        cur.sketch ??= Sketch.decode(cur.first!);
        cur.sketch.merge(Sketch.decode(blob));
      }
      continue;
    }
    close();
    cur = {
      key_id: r.key_id,
      day: r.day,
      hour: r.hour,
      m: { count: r.count, mean: r.mean, m2: r.m2 },
      sketch: undefined,
      first: blob,
    };
  }
  close();
  return out;
}
