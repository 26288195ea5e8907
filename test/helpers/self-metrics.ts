import type { Sidecar } from '../../src/main.js';

/** The value of a self-metric (summed over series matching `labels`). */
export async function metricValue(
  sidecar: Sidecar,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const m = sidecar.metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values
    .filter((v) =>
      Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
    )
    .filter((v) => !('metricName' in v) || !String(v.metricName).endsWith('_bucket'))
    .reduce((n, v) => n + v.value, 0);
}
