import type { AnomalyHistory, AnomalyRecord } from '../../detectors/anomaly/contract.js';
import { anomalyJson } from './anomaly-json.js';
import type { EventStream } from './event-stream.js';
import { streamWants, type StreamFilter } from './routes.js';
import { formatPlace, parsePlace, resetEvent } from './stream-place.js';

/**
 * Most anomalies a resumed stream replays: with more missed, it is sent `event: reset` instead
 * and its client reads the history.
 */
export const MAX_REPLAY = 1000;

interface Live {
  readonly processor: string;
  readonly record: AnomalyRecord;
}

/**
 * Serves `stream` the anomalies of `detectors` that pass `filter`, subscribing through `subscribed`
 * (called with each unsubscribe). Each event's `id:` is the stream's place (stream-place.ts): per
 * processor, the `seq` of the last anomaly sent. Without `lastEventId` the stream starts now, and
 * says where (an `id:` without an event) so that a client dropped before its first event resumes
 * too. With it: the anomalies published after that place that pass the filter, in the order
 * published, from the history (at most MAX_REPLAY), then live ones with no gap and none twice
 * (those published meanwhile wait, and an anomaly at or before the place is not sent again).
 * When that place cannot be resumed from (unknown, gone from the history, or more than MAX_REPLAY
 * missed), `event: reset` says so and the stream continues from now.
 */
export async function serveAnomalies(
  stream: EventStream,
  detectors: readonly { id: string; detector: AnomalyHistory }[],
  filter: StreamFilter,
  lastEventId: string | undefined,
  jaegerUiUrl: string | undefined,
  subscribed: (unsubscribe: () => void) => void,
): Promise<void> {
  const place = new Map<string, number>();
  const send = ({ processor, record }: Live) => {
    if (record.seq <= (place.get(processor) ?? 0)) return;
    place.set(processor, record.seq);
    stream.send('anomaly', formatPlace(place), { processor, ...anomalyJson(record, jaegerUiUrl) });
  };
  // Live anomalies wait while the history is read (bounded: beyond, a reset as if too many).
  let waiting: Live[] | undefined = [];
  let overflow = false;
  for (const { id, detector } of detectors) {
    subscribed(
      detector.subscribe((record) => {
        if (!streamWants(filter, id, record)) return;
        if (!waiting) send({ processor: id, record });
        else if (waiting.length < MAX_REPLAY) waiting.push({ processor: id, record });
        else overflow = true;
      }),
    );
  }
  const from = lastEventId === undefined ? undefined : parsePlace(lastEventId);
  const now = () => {
    for (const { id, detector } of detectors) place.set(id, detector.streamPosition());
  };
  if (lastEventId === undefined) {
    now();
    stream.mark(formatPlace(place));
  } else {
    const missed = from && (await missedSince(from, detectors, filter));
    if (!missed || missed.length > MAX_REPLAY || overflow) {
      now();
      const reason = missed ? 'too_many' : 'unknown_id';
      stream.send('reset', formatPlace(place), resetEvent(reason, MAX_REPLAY, '/api/v1/anomalies'));
    } else {
      for (const { id } of detectors) place.set(id, from.get(id)!);
      for (const m of missed) send(m);
    }
  }
  const live = waiting;
  waiting = undefined;
  for (const l of live) send(l);
}

/**
 * What each processor published after its place in `from` that passes `filter`, in the order
 * published; undefined when `from` lacks one of them or one cannot resume from its place.
 */
async function missedSince(
  from: ReadonlyMap<string, number>,
  detectors: readonly { id: string; detector: AnomalyHistory }[],
  filter: StreamFilter,
): Promise<Live[] | undefined> {
  if (detectors.some(({ id }) => !from.has(id))) return undefined;
  const read = await Promise.all(
    detectors.map(async ({ id, detector }) =>
      (await detector.replay(from.get(id)!, filter, MAX_REPLAY + 1))?.map((record) => ({
        processor: id,
        record,
      })),
    ),
  );
  if (read.some((r) => r === undefined)) return undefined;
  return read.flatMap((r) => r!).sort((a, b) => a.record.seq - b.record.seq);
}
