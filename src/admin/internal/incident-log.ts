import { Sequence } from '../../component/sequence.js';
import {
  incidentJson,
  type IncidentChange,
  type IncidentSource,
} from '../../detectors/anomaly/contract.js';
import type { EventStream } from './event-stream.js';
import { resetEvent } from './stream-place.js';

/** Incident changes kept for streams that resume (`Last-Event-ID`), and most replayed to one. */
export const MAX_INCIDENT_LOG = 1000;
/** And at most this much of their JSON (an incident's is a few KiB; its lists are bounded). */
export const MAX_INCIDENT_LOG_BYTES = 8 * 1024 * 1024;

interface Entry {
  readonly seq: number;
  readonly processor: string;
  /** The event's data (the incident's JSON with `change`), serialized once for every client. */
  readonly json: string;
}

/**
 * The last MAX_INCIDENT_LOG incident changes (at most MAX_INCIDENT_LOG_BYTES of JSON) of the
 * processors' incident sources, numbered in the order they happened (`seq`,
 * component/sequence.ts), for `GET /api/v1/incidents/stream`. Incidents are stored one row each, their latest state: the
 * changes in between are kept here only, in memory. A stream's place is one `seq` (the log's
 * `start` before any change): a client that reconnects with it is sent the changes after it that
 * are still kept; one whose place is not (another process, a restart, or evicted) is sent
 * `event: reset` and re-reads the list.
 */
export class IncidentLog {
  private readonly entries: Entry[] = [];
  private readonly listeners = new Set<(e: Entry) => void>();
  private readonly unsubscribe: (() => void)[] = [];
  /** The changes' numbers; its `start` is the place of a stream opened before any change. */
  private readonly seq: Sequence;
  private evicted = false;
  /** The JSON kept, in UTF-16 code units (what the bound counts). */
  private chars = 0;

  constructor(
    now: () => number,
    private readonly jaegerUiUrl: string | undefined,
    private readonly max = MAX_INCIDENT_LOG,
    private readonly maxChars = MAX_INCIDENT_LOG_BYTES,
  ) {
    this.seq = new Sequence(now);
  }

  /** Records the changes of these sources until `close`. */
  follow(sources: readonly { id: string; source: IncidentSource }[]): void {
    for (const { id, source } of sources) {
      this.unsubscribe.push(source.subscribe((c) => this.add(id, c)));
    }
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u();
  }

  private add(processor: string, c: IncidentChange): void {
    const seq = this.seq.next();
    const json = JSON.stringify({
      change: c.type,
      ...incidentJson(processor, c.incident, this.jaegerUiUrl),
    });
    const entry = { seq, processor, json };
    this.entries.push(entry);
    this.chars += json.length;
    while (
      this.entries.length > this.max ||
      (this.chars > this.maxChars && this.entries.length > 1)
    ) {
      this.chars -= this.entries.shift()!.json.length;
      this.evicted = true;
    }
    for (const l of this.listeners) l(entry);
  }

  /** The changes after `seq` (in order), or undefined when `seq` is not a place kept here. */
  private after(seq: number): Entry[] | undefined {
    if (seq === this.seq.start && !this.evicted) return [...this.entries];
    const i = this.entries.findIndex((e) => e.seq === seq);
    return i < 0 ? undefined : this.entries.slice(i + 1);
  }

  /**
   * Serves `stream` the changes of `processor` (every one when undefined), from after the place in
   * `lastEventId` when given (or `event: reset` when it is not kept), then live. Returns the
   * unsubscribe.
   */
  serve(
    stream: EventStream,
    processor: string | undefined,
    lastEventId: string | undefined,
  ): () => void {
    const wanted = (e: Entry) => processor === undefined || e.processor === processor;
    const send = (e: Entry) => {
      if (wanted(e)) stream.sendJson('incident', idOf(e.seq), e.json);
    };
    if (lastEventId === undefined) {
      stream.mark(idOf(this.seq.last));
    } else {
      const seq = /^\d{1,16}$/.test(lastEventId) ? Number(lastEventId) : undefined;
      const missed = seq === undefined ? undefined : this.after(seq);
      if (missed) for (const e of missed) send(e);
      else {
        stream.send(
          'reset',
          idOf(this.seq.last),
          resetEvent('unknown_id', this.max, '/api/v1/incidents'),
        );
      }
    }
    this.listeners.add(send);
    return () => this.listeners.delete(send);
  }
}

/** An event's `id:`: its `seq` (all processors' changes are numbered together). */
function idOf(seq: number): string {
  return String(seq);
}
