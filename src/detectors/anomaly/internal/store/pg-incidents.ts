import type pg from 'pg';
import type { IncidentState } from '../../incidents/incident.js';
import type { Queryable } from './pg-changes.js';
import { INCIDENT_LOCK } from './pg-schema.js';

/** What one flush writes of this instance's incidents (schema 6). */
export interface IncidentBatch {
  /** This instance's incidents that changed since the last write, as they are now. */
  readonly states: readonly IncidentState[];
  /** Ids among them this instance never wrote: matched against the fleet's open incidents. */
  readonly fresh: ReadonlySet<string>;
  /**
   * Another instance's open part is over (not matched) once its last change is older than its
   * quiet period (`quietPeriodOf`, from its length: `updated_at - opened_at`) before `live.at`.
   */
  readonly live: LiveRule;
}

/** When a part counts as live: the incidents' quiet settings, and now less the flushes' slack. */
export interface LiveRule {
  readonly at: number;
  readonly quietMs: number;
  readonly growth: number;
  readonly maxQuietMs: number;
}

/** One instance's part of a fleet incident, as stored. */
export interface IncidentPart {
  readonly instance: string;
  readonly state: IncidentState;
}

/**
 * Writes this instance's parts in the flush's transaction (`client`). An incident new to the
 * fleet first takes the fleet's incident lock (held to the commit, so two instances never claim
 * one fault at once) and looks for an open incident of another instance with the same origin
 * (service and operation); when there is one, the earliest opened, it is written as a part of
 * that one. Returns those adoptions: local id -> fleet id.
 */
export async function writeIncidents(
  client: pg.PoolClient,
  instance: string,
  batch: IncidentBatch,
): Promise<Map<string, string>> {
  const adopted = new Map<string, string>();
  if (batch.states.length === 0) return adopted;
  const fresh = batch.states.filter((s) => batch.fresh.has(s.id) && s.origin !== null);
  if (fresh.length > 0) {
    await client.query('SELECT pg_advisory_xact_lock($1)', [INCIDENT_LOCK]);
    const found = await client.query<{ id: string; s: string; o: string }>(
      `SELECT id, origin_service AS s, origin_operation AS o FROM hg_incidents
       WHERE status = 'open' AND instance <> $1
         AND updated_at + GREATEST($5::float8, LEAST($6::float8, $7::float8 * (updated_at - opened_at))) >= $2
         AND (origin_service, origin_operation) IN (SELECT * FROM unnest($3::text[], $4::text[]))
       GROUP BY id, origin_service, origin_operation ORDER BY min(opened_at), id`,
      [
        instance,
        Math.floor(batch.live.at),
        fresh.map((s) => s.origin!.service),
        fresh.map((s) => s.origin!.operation),
        batch.live.quietMs,
        batch.live.maxQuietMs,
        batch.live.growth,
      ],
    );
    for (const s of fresh) {
      const o = s.origin!;
      const first = found.rows.find((r) => r.s === o.service && r.o === o.operation);
      if (first) adopted.set(s.id, first.id);
    }
  }
  const rows = batch.states
    .map((s) => {
      const id = adopted.get(s.id);
      return id === undefined ? s : { ...s, id };
    })
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  await client.query(
    `INSERT INTO hg_incidents (id, instance, status, severity, opened_at, updated_at,
       origin_service, origin_operation, state)
     SELECT i, $2, st, sev, op, up, os, oo, js FROM unnest($1::text[], $3::text[], $4::int[],
       $5::bigint[], $6::bigint[], $7::text[], $8::text[], $9::text[])
       AS t (i, st, sev, op, up, os, oo, js)
     ON CONFLICT (id, instance) DO UPDATE SET status = EXCLUDED.status,
       severity = EXCLUDED.severity, opened_at = EXCLUDED.opened_at,
       updated_at = EXCLUDED.updated_at, origin_service = EXCLUDED.origin_service,
       origin_operation = EXCLUDED.origin_operation, state = EXCLUDED.state,
       xid = pg_current_xact_id()`,
    [
      rows.map((s) => s.id),
      instance,
      rows.map((s) => s.status),
      rows.map((s) => s.severity),
      rows.map((s) => Math.round(s.openedAt)),
      rows.map((s) => Math.round(s.updatedAt)),
      rows.map((s) => s.origin?.service ?? null),
      rows.map((s) => s.origin?.operation ?? null),
      rows.map((s) => JSON.stringify(s)),
    ],
  );
  return adopted;
}

/**
 * The parts other instances wrote since the snapshot xmin `since` (from the last call), and the
 * xmin to pass next time: rows of transactions still running are at or above it, so none is
 * missed (one may be read twice). Without `since` (at start): every instance's open parts and the
 * `recent` last changed, this instance's too.
 */
export async function incidentsSince(
  db: Queryable,
  instance: string,
  since: string | undefined,
  recent: number,
): Promise<{ parts: IncidentPart[]; next: string }> {
  if (since !== undefined) {
    // One statement: the rows its snapshot sees, and that snapshot's xmin.
    const r = await db.query<{ x: string; instance: string | null; state: string | null }>(
      `WITH s AS (SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x)
       SELECT s.x, i.instance, i.state FROM s
       LEFT JOIN hg_incidents i ON i.xid >= $1::xid8 AND i.instance <> $2`,
      [since, instance],
    );
    return {
      parts: r.rows
        .filter((row) => row.instance !== null)
        .map((row) => ({
          instance: row.instance!,
          state: JSON.parse(row.state!) as IncidentState,
        })),
      next: r.rows[0]!.x,
    };
  }
  const xmin = await db.query<{ x: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS x',
  );
  const next = xmin.rows[0]!.x;
  const r = await db.query<{ instance: string; state: string }>(
    `(SELECT instance, state FROM hg_incidents WHERE status = 'open')
     UNION ALL
     (SELECT instance, state FROM hg_incidents WHERE status <> 'open'
      ORDER BY updated_at DESC LIMIT $1)`,
    [recent],
  );
  return {
    parts: r.rows.map((row) => ({
      instance: row.instance,
      state: JSON.parse(row.state) as IncidentState,
    })),
    next,
  };
}

/**
 * The instances that flushed at or after `at` (`hg_instances.seen_at`, written by every flush):
 * the fleet's instances still running. Only those: names of instances gone (a pod's) pile up.
 */
export async function instancesSeen(db: Queryable, at: number): Promise<string[]> {
  const r = await db.query<{ instance: string }>(
    'SELECT instance FROM hg_instances WHERE seen_at >= $1',
    [Math.floor(at)],
  );
  return r.rows.map((row) => row.instance);
}

/** Retention: parts unchanged since `before`, then the oldest incidents beyond `maxStored`. */
export async function trimIncidents(
  client: Queryable,
  before: number,
  maxStored: number,
): Promise<number> {
  const old = await client.query('DELETE FROM hg_incidents WHERE updated_at < $1', [
    Math.floor(before),
  ]);
  const over = await client.query(
    `DELETE FROM hg_incidents WHERE id IN (
       SELECT id FROM hg_incidents GROUP BY id
       ORDER BY bool_or(status = 'open') DESC, max(updated_at) DESC OFFSET $1)`,
    [maxStored],
  );
  return (old.rowCount ?? 0) + (over.rowCount ?? 0);
}
