import type http from 'node:http';
import type { Clock, Timer } from '../../component/clock.js';

// A client that does not read is dropped once this much is waiting in its socket.
const MAX_BUFFERED = 1024 * 1024;

/**
 * One server-sent events client: `text/event-stream`, an event per anomaly, a comment line as a
 * heartbeat on the injected clock. Bounded: a client that falls behind by more than 1 MiB is
 * disconnected (it reconnects and reads the history for what it missed).
 */
export class EventStream {
  private heartbeat: Timer | undefined;
  private closed = false;

  constructor(
    private readonly res: http.ServerResponse,
    clock: Clock,
    heartbeatMs: number,
    private readonly onClose: () => void,
  ) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write('retry: 5000\n: connected\n\n');
    this.heartbeat = clock.setInterval(() => this.write(': keep-alive\n\n'), heartbeatMs).unref();
    res.on('close', () => this.close());
  }

  send(event: string, id: string, data: unknown): void {
    this.write(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat?.cancel();
    if (!this.res.writableEnded) this.res.end();
    this.onClose();
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.res.writableLength > MAX_BUFFERED) {
      this.close();
      return;
    }
    this.res.write(text);
  }
}
