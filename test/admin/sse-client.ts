import http from 'node:http';

/** One server-sent event as read: `id:`, `event:` and the parsed `data:` (an `id:` alone: a mark). */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string;
  readonly data: any;
}

export interface SseClient {
  readonly status: number;
  /** Every event read so far (comments left out; an `id:` without data is event `mark`). */
  readonly events: SseEvent[];
  /** Resolves once `want` holds of the events read (rejects if the stream ends first, or in 20 s). */
  until(want: (events: readonly SseEvent[]) => boolean): Promise<void>;
  /** The events of one type. */
  of(event: string): SseEvent[];
  close(): void;
}

/** A real HTTP client of an event stream, sending `Last-Event-ID` when given, as EventSource does. */
export async function openSse(url: string, lastEventId?: string): Promise<SseClient> {
  const req = http.get(url, {
    headers: {
      Accept: 'text/event-stream',
      ...(lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }),
    },
  });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve).once('error', reject);
  });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  let buffered = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      let id: string | undefined;
      let event = 'message';
      let data: string | undefined;
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data = line.slice(6);
      }
      if (data !== undefined) events.push({ id, event, data: JSON.parse(data) });
      else if (id !== undefined) events.push({ id, event: 'mark', data: undefined });
    }
    for (const w of [...waiters]) w();
  });
  res.on('close', () => {
    ended = true;
    for (const w of [...waiters]) w();
  });
  return {
    status: res.statusCode ?? 0,
    events,
    of: (event) => events.filter((e) => e.event === event),
    until: (want) =>
      new Promise<void>((resolve, reject) => {
        const fail = (why: string) => {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`${why}; read: ${JSON.stringify(events).slice(0, 2000)}`));
        };
        const check = () => {
          if (want(events)) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve();
          } else if (ended) fail('the stream ended');
        };
        const timer = setTimeout(() => fail('nothing more in 20 s'), 20_000);
        waiters.add(check);
        check();
      }),
    close: () => req.destroy(),
  };
}

/** The place a new stream at `url` starts at (its first `id:`), its client then dropped. */
export async function startingPlace(url: string): Promise<string> {
  const s = await openSse(url);
  await s.until((e) => e.length > 0);
  s.close();
  if (s.events[0]!.event !== 'mark') throw new Error(`not a mark: ${JSON.stringify(s.events[0])}`);
  return s.events[0]!.id!;
}
