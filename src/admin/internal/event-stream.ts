import type http from 'node:http';
import type { Clock, Timer } from '../../component/clock.js';

// A client that does not read is dropped once this much is waiting in its socket.
const MAX_BUFFERED = 1024 * 1024;

/**
 * One server-sent events client: `text/event-stream`, an event per anomaly, a comment line as a
 * heartbeat on the injected clock. Bounded: a client that falls behind by more than 1 MiB is
 * disconnected (it reconnects with `Last-Event-ID` and is sent what it missed: anomaly-stream.ts,
 * incident-log.ts).
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
    // A client that leaves may only half-close (FIN): its socket would stay open, and the
    // subscription with it, until a write failed. It sends nothing after its request, so the end
    // of its side is the end of the stream.
    res.socket?.once('end', () => this.close());
    // A client whose host vanished sends neither FIN nor RST: TCP keep-alive probes find it.
    res.socket?.setKeepAlive(true, heartbeatMs);
  }

  send(event: string, id: string, data: unknown): void {
    this.sendJson(event, id, JSON.stringify(data));
  }

  /** An event whose data is JSON already (one line). */
  sendJson(event: string, id: string, json: string): void {
    this.write(`id: ${id}\nevent: ${event}\ndata: ${json}\n\n`);
  }

  /**
   * Sets the client's last event id without an event (an `id:` without data is dispatched to no
   * listener, but an EventSource keeps it and sends it as `Last-Event-ID` when it reconnects).
   */
  mark(id: string): void {
    this.write(`id: ${id}\n\n`);
  }

  /** Ends the stream, closes its connection (never kept alive for another request), unsubscribes. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat?.cancel();
    const socket = this.res.socket;
    if (!this.res.writableEnded) this.res.end();
    socket?.destroySoon();
    this.onClose();
  }

  private write(text: string): void {
    if (this.closed) return;
    if (this.res.writableLength > MAX_BUFFERED) {
      this.close();
      this.res.destroy(); // what it did not read is dropped with its connection
      return;
    }
    this.res.write(text);
  }
}
