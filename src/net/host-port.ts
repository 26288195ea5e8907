/**
 * `host:port` as the Collector writes server endpoints (`0.0.0.0:4317`, `localhost:4318`,
 * `[::1]:8888`; an empty host means every interface). Undefined when it is not one.
 */
export function parseHostPort(v: string): { host: string; port: number } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s/]*):(\d{1,5})$/.exec(v);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { host: host === '' ? '0.0.0.0' : host, port };
}
