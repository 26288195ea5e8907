import type { AnomalyFeed } from './anomaly-feed.js';
import { matches, type AnomalyQuery, type AnomalyRecord } from './anomaly-record.js';

/** The filters an event stream of anomalies takes (the history's, without time and limit). */
export type ReplayFilter = Omit<AnomalyQuery, 'limit' | 'sinceMs'>;

/**
 * Reads the stored anomalies published after `seq` that match the filter, in the order published,
 * at most `limit`; undefined when `seq` is not `known` and not in the stored history.
 */
export type StoredAfter = (
  seq: number,
  known: boolean,
  filter: ReplayFilter,
  limit: number,
) => AnomalyRecord[] | undefined | Promise<AnomalyRecord[] | undefined>;

/**
 * What an event stream that last sent the anomaly published as `seq` missed (or that started at
 * `seq`, the feed's start, when none was published yet): those published after it that match
 * `filter`, in the order published, from the stored history and the feed's unflushed records.
 * Undefined when `seq` is neither the feed's start nor in either (an unknown place, another run's
 * start, or one gone by retention or `max_history`): the stream cannot resume from it.
 *
 * The unflushed records are a suffix of what was published (the feed writes and drops its oldest
 * first): when `seq` is among them, so is everything after it. They are taken before the stored
 * history is read, so a record written meanwhile is in one or the other (or both: kept once).
 */
export async function replayAfter(
  feed: AnomalyFeed,
  seq: number,
  filter: ReplayFilter,
  limit: number,
  storedAfter: StoredAfter,
): Promise<AnomalyRecord[] | undefined> {
  const unflushed = feed.after(seq).filter((r) => matches(r, filter));
  if (feed.holds(seq)) return unflushed;
  const stored = await storedAfter(seq, seq === feed.start, filter, limit);
  if (!stored) return undefined;
  const seen = new Set(stored.map((r) => r.seq));
  return [...stored, ...unflushed.filter((r) => !seen.has(r.seq))].sort((a, b) => a.seq - b.seq);
}
