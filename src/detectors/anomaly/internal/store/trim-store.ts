import type Database from 'better-sqlite3';
import { MAX_BOUNDED_BYTES, boundText } from '../../../../otlp/bounded-text.js';

export interface TrimReport {
  /** Keys and anomaly rows whose names were cut (written by an older version). */
  readonly namesCut: number;
  /** Keys deleted with their rows: long names that became another key's once cut, or beyond max_keys. */
  readonly keysDeleted: number;
  /** Whether the file was compacted (VACUUM) after much was deleted. */
  readonly compacted: boolean;
}

/**
 * Brings a database into the bounds of this version before anything of it is read into memory: a
 * file written by an older hourglass may hold names of any length (a megabyte each) and more keys
 * than `max_keys`. Names are measured in SQL (`octet_length` reads no content) and cut there, one
 * row at a time; a key whose cut name is another key's is deleted; beyond `maxKeys` keys, those
 * with the fewest spans in the window go. The file is compacted when most of it was freed.
 */
export function trimStore(db: Database.Database, maxKeys: number, sinceDay: number): TrimReport {
  db.function('hourglass_bound_text', { deterministic: true }, (v: unknown) =>
    typeof v === 'string' ? boundText(v) : v,
  );
  const long = (column: string) => `octet_length(${column}) > ${MAX_BOUNDED_BYTES}`;
  let namesCut = 0;
  let keysDeleted = 0;
  const deleteKeys = (where: string, ...args: number[]) => {
    const ids = db
      .prepare<number[], { id: number }>(`SELECT id FROM keys WHERE ${where}`)
      .all(...args)
      .map((r) => r.id);
    const rows = db.prepare('DELETE FROM daily_stats WHERE key_id = ?');
    const thresholds = db.prepare('DELETE FROM thresholds WHERE key_id = ?');
    const level = db.prepare('DELETE FROM levels WHERE key_id = ?');
    const key = db.prepare('DELETE FROM keys WHERE id = ?');
    for (const id of ids) {
      rows.run(id);
      thresholds.run(id);
      level.run(id);
      key.run(id);
    }
    keysDeleted += ids.length;
  };
  db.transaction(() => {
    const names = `service = hourglass_bound_text(service), operation = hourglass_bound_text(operation)`;
    const longNames = `${long('service')} OR ${long('operation')}`;
    namesCut += db.prepare(`UPDATE OR IGNORE keys SET ${names} WHERE ${longNames}`).run().changes;
    // What is still long became another key's name once cut: that key keeps its history.
    deleteKeys(longNames);
    namesCut += db
      .prepare(
        `UPDATE anomalies SET ${names}, baseline_window = hourglass_bound_text(baseline_window)
         WHERE ${longNames} OR ${long('baseline_window')}`,
      )
      .run().changes;
    const total = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM keys').get()!.n;
    if (total > maxKeys) {
      deleteKeys(
        `id IN (SELECT k.id FROM keys k LEFT JOIN
           (SELECT key_id, SUM(count) AS n, MAX(day) AS last FROM daily_stats WHERE day >= ?
            GROUP BY key_id) s ON s.key_id = k.id
         ORDER BY COALESCE(s.n, 0), COALESCE(s.last, 0), k.id LIMIT ?)`,
        sinceDay,
        total - maxKeys,
      );
    }
  }).immediate();
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const compacted = (namesCut > 0 || keysDeleted > 0) && free > pages / 2;
  if (compacted) db.exec('VACUUM');
  return { namesCut, keysDeleted, compacted };
}
