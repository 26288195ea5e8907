import { useEffect, useRef, useState } from 'preact/hooks';
import type { Anomaly } from './api-types.js';
import { getJson } from './api.js';
import { openEventStream, type StreamState } from './event-stream.js';

/** Anomalies kept on the page, and held while paused: beyond these the oldest go. */
const MAX_SHOWN = 500;
const MAX_HELD = 500;

export interface LiveFeed {
  readonly items: readonly Anomaly[];
  readonly held: number;
  readonly droppedWhilePaused: number;
  readonly state: StreamState;
  readonly detail: string | undefined;
}

/**
 * The recent history, then every new anomaly from the event stream, newest first. While paused,
 * new anomalies are held (bounded) and shown on resume. Renders at most every 200 ms.
 */
export function useLiveFeed(paused: boolean): LiveFeed {
  const items = useRef<Anomaly[]>([]);
  const held = useRef<Anomaly[]>([]);
  const dropped = useRef(0);
  const pausedRef = useRef(paused);
  const [state, setState] = useState<{ s: StreamState; detail?: string | undefined }>({
    s: 'connecting',
  });
  const [, setTick] = useState(0);
  const scheduled = useRef(false);
  const render = () => {
    if (scheduled.current) return;
    scheduled.current = true;
    setTimeout(() => {
      scheduled.current = false;
      setTick((t) => t + 1);
    }, 200);
  };
  const add = (list: Anomaly[], fresh: readonly Anomaly[]) => {
    const seen = new Set(list.map((a) => a.id));
    const merged = [...fresh.filter((a) => !seen.has(a.id)), ...list];
    merged.sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
    return merged.slice(0, MAX_SHOWN);
  };
  useEffect(() => {
    pausedRef.current = paused;
    if (!paused && held.current.length > 0) {
      items.current = add(items.current, held.current);
      held.current = [];
      dropped.current = 0;
      render();
    }
  }, [paused]);
  useEffect(() => {
    let live = true;
    const readHistory = () =>
      getJson<{ anomalies: Anomaly[] }>('/api/v1/anomalies?limit=100').then(
        ({ anomalies }) => {
          if (!live) return;
          items.current = add(items.current, anomalies);
          render();
        },
        () => undefined, // the stream's state says what is wrong
      );
    void readHistory();
    // A reconnect sends what was missed (Last-Event-ID); a reset says it could not: re-read.
    const close = openEventStream(
      '/api/v1/anomalies/stream',
      (e) => {
        if (e.event === 'reset') void readHistory();
        if (e.event !== 'anomaly') return;
        let a: Anomaly;
        try {
          a = JSON.parse(e.data) as Anomaly;
        } catch {
          return;
        }
        if (pausedRef.current) {
          held.current.unshift(a);
          if (held.current.length > MAX_HELD) {
            held.current.length = MAX_HELD;
            dropped.current++;
          }
        } else {
          items.current = add(items.current, [a]);
        }
        render();
      },
      (s, detail) => setState({ s, detail }),
    );
    return () => {
      live = false;
      close();
    };
  }, []);
  return {
    items: items.current,
    held: held.current.length,
    droppedWhilePaused: dropped.current,
    state: state.s,
    detail: state.detail,
  };
}
