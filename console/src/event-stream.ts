import { apiFetch, errorText } from './api.js';

export type StreamState = 'connecting' | 'open' | 'retrying' | 'unavailable' | 'unauthorized';

export interface StreamEvent {
  readonly event: string;
  readonly id: string;
  readonly data: string;
}

/**
 * Server-sent events read with `fetch`, so the bearer token goes in a header (EventSource cannot
 * send one). Reconnects after the server's `retry:` delay (5 s by default) until `close()` is
 * called, sending the last event id it read as `Last-Event-ID` as an EventSource does: the server
 * then sends what was missed, or `event: reset` when it cannot (the caller re-reads its list).
 * `onReconnect` is called each time it is open again after the first. Stops for good on 401 (no
 * token) and 404 (nothing serves this stream).
 */
export function openEventStream(
  path: string,
  onEvent: (e: StreamEvent) => void,
  onState: (s: StreamState, detail?: string) => void,
  onReconnect: () => void = () => undefined,
): () => void {
  const ctrl = new AbortController();
  let retryMs = 5_000;
  // The last `id:` read (an `id:` without data sets it too, as the HTML standard's parser does).
  let lastId = '';
  let opened = false;
  const run = async () => {
    while (!ctrl.signal.aborted) {
      onState('connecting');
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        if (lastId !== '') headers['Last-Event-ID'] = lastId;
        const res = await apiFetch(path, { signal: ctrl.signal, headers });
        if (res.status === 401) return onState('unauthorized');
        if (res.status === 404) return onState('unavailable', await errorText(res));
        if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
        onState('open');
        if (opened) onReconnect();
        opened = true;
        retryMs = await read(res.body, onEvent, retryMs, (id) => (lastId = id));
      } catch (err) {
        if (ctrl.signal.aborted) return;
        onState('retrying', err instanceof Error ? err.message : String(err));
      }
      if (ctrl.signal.aborted) return;
      onState('retrying');
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  };
  void run();
  return () => ctrl.abort();
}

/** Reads events until the stream ends; returns the last `retry:` asked for. */
async function read(
  body: ReadableStream<Uint8Array>,
  onEvent: (e: StreamEvent) => void,
  retryMs: number,
  onId: (id: string) => void,
): Promise<number> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return retryMs;
    buffered += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let event = 'message';
      let id = '';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = v;
        else if (field === 'id' && !v.includes('\0')) {
          id = v;
          onId(v);
        } else if (field === 'data') data.push(v);
        else if (field === 'retry' && /^\d+$/.test(v)) retryMs = Number(v);
      }
      if (data.length > 0) onEvent({ event, id, data: data.join('\n') });
    }
  }
}
