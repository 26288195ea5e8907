/**
 * A place in event streams whose events are numbered per source (per processor id): the `seq` of
 * the last event sent of each. Written as an event's `id:` in the form of a query string
 * (`anomaly=1765180800000001&anomaly%2Fedge=1765180800000000`), so a processor id may hold any
 * character; read back from `Last-Event-ID`.
 */
export function formatPlace(place: ReadonlyMap<string, number>): string {
  return new URLSearchParams(
    [...place].map(([id, seq]): [string, string] => [id, String(seq)]),
  ).toString();
}

/** The place of `formatPlace`; undefined for anything else (another server's id, a typo). */
export function parsePlace(text: string): Map<string, number> | undefined {
  const place = new Map<string, number>();
  for (const [id, seq] of new URLSearchParams(text)) {
    if (!/^\d{1,16}$/.test(seq) || place.has(id)) return undefined;
    place.set(id, Number(seq));
  }
  return place.size > 0 ? place : undefined;
}

/**
 * The last event id a client sent: the `Last-Event-ID` header (what an EventSource sends when it
 * reconnects), else the `last_event_id` query parameter (for clients that cannot set a header; an
 * EventSource reconnecting to that URL sends the header, newer, which wins).
 */
export function lastEventId(
  header: string | string[] | undefined,
  query: string | undefined,
): string | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  const id = h !== undefined && h.trim() !== '' ? h : query;
  return id === undefined || id.trim() === '' ? undefined : id.trim();
}

/** What a stream sends (`event: reset`) when it cannot resume from the client's last event id. */
export function resetEvent(
  reason: 'unknown_id' | 'too_many',
  maxReplay: number,
  reread: string,
): { reason: string; max_replay: number; message: string } {
  return {
    reason,
    max_replay: maxReplay,
    message:
      reason === 'too_many'
        ? `more than ${maxReplay} events were missed since the last event id; read ${reread} for them (this stream continues from now)`
        : `the last event id is not known here (another server, a restart, or older than what is kept); read ${reread} for what was missed (this stream continues from now)`,
  };
}
