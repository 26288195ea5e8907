import net from 'node:net';

/**
 * `127.0.0.1:PORT` addresses that were free a moment ago (bound on port 0, then released), for a
 * child process whose config needs them written down before it starts.
 */
export async function freeAddresses(n: number): Promise<string[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const s = net.createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const out = servers.map((s) => `127.0.0.1:${(s.address() as net.AddressInfo).port}`);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return out;
}

/** The four endpoints the shipped otel-config.yaml reads from the environment, on free ports. */
export async function shippedEndpoints(): Promise<Record<string, string>> {
  const [grpc, http, telemetry, admin] = await freeAddresses(4);
  return {
    HOURGLASS_GRPC_ENDPOINT: grpc!,
    HOURGLASS_HTTP_ENDPOINT: http!,
    HOURGLASS_TELEMETRY_ENDPOINT: telemetry!,
    HOURGLASS_ADMIN_ENDPOINT: admin!,
  };
}
