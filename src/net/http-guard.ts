import type http from 'node:http';
import type { Socket } from 'node:net';
import { ConnectionSlots, backstopConnections, type ConnectionMetrics } from './connections.js';

/** What the guard reads of a server's settings (the OTLP/HTTP receiver's, or fixed ones). */
export interface GuardSettings {
  /** Connections open at once; when all are taken, the oldest idle one makes room. */
  readonly max_connections: number;
  /** A new connection must send a request's headers within this (ms; 0: no limit). */
  readonly read_header_timeout: number;
  /** Set when the server is TLS: connections are counted once their handshake is done. */
  readonly tls?: unknown;
}

/**
 * Connection limits around Node's own timeouts: the cap on connections; a new connection that
 * sends no request within `read_header_timeout` is closed (Node's headersTimeout only starts
 * with a request's first byte); idle keep-alive closes and request timeouts are counted. The
 * OTLP/HTTP receiver uses it with its settings, the telemetry endpoint and the admin API with
 * `SMALL_SERVER_GUARD`.
 */
export function guardHttpServer(
  server: http.Server,
  config: GuardSettings,
  connections: ConnectionMetrics,
): void {
  const max = config.max_connections;
  backstopConnections(server, max, connections);
  const slots = new ConnectionSlots<Socket>(max, connections);
  const served = new WeakSet<Socket>();
  const header = config.read_header_timeout;
  server.on(config.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
    if (!slots.admit(socket, () => socket.destroy())) {
      socket.destroy();
      return;
    }
    socket.once('close', () => slots.release(socket));
    if (header > 0) socket.setTimeout(header);
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    slots.requestStarted(socket);
    res.once('close', () => slots.requestEnded(socket));
    if (served.has(socket)) return;
    served.add(socket);
    socket.setTimeout(0); // Node's keep-alive and request timeouts take over
  });
  // Listening to 'timeout' means closing the socket here: idle keep-alive, or a silent newcomer.
  server.on('timeout', (socket: Socket) => {
    if (served.has(socket)) connections.idleClosed();
    else connections.timedOut();
    socket.destroy();
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') connections.timedOut();
    const answered = (socket as Socket & { _httpMessage?: http.ServerResponse })._httpMessage;
    if (!socket.writable || err.code === 'ECONNRESET' || answered?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(
      `HTTP/1.1 ${CLIENT_ERROR_STATUS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`,
    );
  });
}

/**
 * The telemetry endpoint (`/metrics`, probes; on every interface by default) and the admin API
 * serve a few clients: 64 connections each, silent ones closed after 10 s, so a flood of idle
 * connections to them cannot take the file descriptors the receivers and exporters need.
 */
export const SMALL_SERVER_GUARD: GuardSettings = {
  max_connections: 64,
  read_header_timeout: 10_000,
};

const CLIENT_ERROR_STATUS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};
