import type { Clock } from '../../../../component/clock.js';
import { JsonClient, httpError, parseObject, ProviderError } from '../providers/index.js';
import type { Reading } from './metric-readings.js';
import type { ReadingSummary } from './metrics-window.js';

/** Queries used when `prometheus.queries` is not set (Prometheus' own client conventions). */
export const DEFAULT_QUERIES: Readonly<Partial<Record<Reading, string>>> = {
  cpu: 'sum(rate(process_cpu_seconds_total{job="$service"}[1m])) * 100',
  memory: 'sum(process_resident_memory_bytes{job="$service"})',
};

interface VectorSample {
  metric?: Record<string, string>;
  value?: [number, string];
}

/**
 * A second source of metrics: instant queries to a Prometheus HTTP API
 * (`GET /api/v1/query?query=...&time=...`) at the anomaly's time, one per reading, with `$service`
 * replaced by the service name (quoted for a PromQL string). Several series (pods) are averaged.
 */
export class PrometheusSource {
  private readonly client: JsonClient;
  private readonly basePath: string;

  constructor(
    endpoint: string,
    private readonly queries: Readonly<Partial<Record<Reading, string>>>,
    headers: Readonly<Record<string, string>>,
    timeoutMs: number,
    clock: Clock,
  ) {
    const u = new URL(endpoint);
    this.basePath = u.pathname.replace(/\/+$/, '');
    this.client = new JsonClient(
      u.origin,
      { headers, timeoutMs, maxResponseBytes: 1 << 20, connections: 2 },
      clock,
    );
  }

  /** The readings of a service at `atMs`; throws a `ProviderError` when Prometheus fails. */
  async read(service: string, atMs: number, signal: AbortSignal): Promise<ReadingSummary[]> {
    const out: ReadingSummary[] = [];
    const quoted = service.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
    for (const [reading, template] of Object.entries(this.queries) as [Reading, string][]) {
      const query = template.replace(/\$service/g, quoted);
      const qs = new URLSearchParams({ query, time: (atMs / 1000).toFixed(3) });
      const values = await this.client.get(
        `${this.basePath}/api/v1/query?${qs.toString()}`,
        signal,
        async (res) => {
          const text = await res.text();
          if (res.status < 200 || res.status > 299) throw httpError(res.status, text);
          return vectorValues(parseObject(text, 'the Prometheus answer'));
        },
      );
      if (values.length === 0) continue;
      out.push({
        reading,
        source: 'prometheus',
        last: values.reduce((a, b) => a + b, 0) / values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        avg: values.reduce((a, b) => a + b, 0) / values.length,
        samples: values.length,
        lastAt: atMs,
      });
    }
    return out;
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

function vectorValues(body: Record<string, unknown>): number[] {
  if (body['status'] !== 'success') {
    throw new ProviderError(
      'http',
      `Prometheus said: ${JSON.stringify(body['error'] ?? body['status'])}`,
    );
  }
  const data = body['data'] as { resultType?: string; result?: unknown } | undefined;
  if (data?.resultType === 'scalar' && Array.isArray(data.result)) {
    const v = Number((data.result as unknown[])[1]);
    return Number.isFinite(v) ? [v] : [];
  }
  if (data?.resultType !== 'vector' || !Array.isArray(data.result)) {
    throw new ProviderError('malformed', 'the Prometheus answer has no vector result');
  }
  return (data.result as VectorSample[])
    .map((s) => Number(s.value?.[1]))
    .filter((v) => Number.isFinite(v));
}
