import type http from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { parseHostPort } from './host-port.js';

/** Small shared steps of the sidecar's servers (OTLP receiver, telemetry, admin API). */

/** Listens on a validated `host:port`; the error names what could not listen and why. */
export function listen(server: Server, endpoint: string, what: string): Promise<void> {
  const { host, port } = parseHostPort(endpoint)!;
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const hint = err.code === undefined ? undefined : LISTEN_HINTS[err.code];
      const why = `${err.code ?? err.message}${hint === undefined ? '' : `: ${hint}`}`;
      reject(new ListenError(`cannot listen for ${what} on ${endpoint}: ${why}`, endpoint, err));
    });
    server.listen(port, host, () => {
      // Once listening, an error is a connection that could not be accepted (EMFILE while
      // descriptors are exhausted): that connection is lost, the server and the process go on.
      server.on('error', () => undefined);
      resolve();
    });
  });
}

/** A server could not listen on `endpoint` (as configured): the sidecar names the setting. */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    cause: unknown,
  ) {
    super(message, { cause });
  }
}

/** What to do about the usual reasons a server cannot listen. */
const LISTEN_HINTS: Record<string, string> = {
  EADDRINUSE:
    'another process already listens there (a second hourglass?); stop it, or give this server another port',
  EACCES: 'ports below 1024 need privileges; use a higher port',
  EADDRNOTAVAIL: 'no network interface of this machine has that address; use 0.0.0.0 or localhost',
};

/** `127.0.0.1:8888` or `[::1]:8888`: the bound address, useful when the port was 0. */
export function boundAddress(server: http.Server | undefined): string | undefined {
  const a = server?.address() as AddressInfo | null | undefined;
  return a ? `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : undefined;
}

/** Stops listening and closes every connection at once (no request is left waiting). */
export function closeNow(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
