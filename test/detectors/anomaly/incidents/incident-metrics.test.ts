import { describe, expect, it } from 'vitest';
import type { AnomalyRecord } from '../../../../src/detectors/anomaly/contract.js';
import { IncidentMetrics } from '../../../../src/detectors/anomaly/incidents/incident-metrics.js';
import type { TaggedSpan } from '../../../../src/detectors/anomaly/incidents/trace-groups.js';
import { severityName } from '../../../../src/detectors/anomaly/internal/severity.js';
import { SelfMetrics } from '../../../../src/telemetry/self-metrics.js';
import { Random } from '../../helpers/random.js';

const NAME = 'hourglass_anomaly_service_spans_tagged_total';

/** The series of the counter as a scrape lists them (its help text aside). */
async function series(metrics: SelfMetrics): Promise<string[]> {
  const text = await metrics.registry.getSingleMetricAsString(NAME);
  return text.split('\n').filter((l) => l.startsWith(NAME));
}

/** What the counter read when each request's tagged spans were added at once, bounded alike. */
function atOnce(metrics: SelfMetrics, maxServices: number) {
  const counter = metrics.counter(NAME, 'help', ['processor', 'service', 'severity']);
  const services = new Set<string>();
  const label = (s: string) =>
    services.has(s) || (services.size < maxServices && services.add(s)) ? s : 'other';
  return (tagged: readonly TaggedSpan[]) => {
    const counts = new Map<string, number>();
    for (const t of tagged) {
      const key = `${label(t.record.service)}\u0000${t.record.severity}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const [key, n] of counts) {
      const [service, sev] = key.split('\u0000');
      counter.inc({ processor: 'anomaly', service, severity: severityName(Number(sev)) }, n);
    }
  };
}

describe('incident metrics: tagged spans by service and severity', () => {
  it('reads, at any scrape, what increments made with each request would (values and series order)', async () => {
    const r = new Random(5);
    const counted = new SelfMetrics({ processMetrics: false });
    const metrics = new IncidentMetrics(counted, 'anomaly', 4);
    const reference = new SelfMetrics({ processMetrics: false });
    const add = atOnce(reference, 4);
    for (let request = 0; request < 300; request++) {
      const tagged = Array.from({ length: Math.floor(r.next() * 8) }, (_, span) => ({
        span,
        record: {
          service: `service-${Math.floor(r.next() * r.next() * 7)}`,
          severity: 1 + Math.floor(r.next() * 5),
        } as AnomalyRecord,
      }));
      metrics.tagged(tagged);
      add(tagged);
      if (r.next() < 0.1) expect(await series(counted)).toEqual(await series(reference));
    }
    const last = await series(counted);
    expect(last).toEqual(await series(reference));
    expect(last.length).toBeGreaterThan(20);
    expect(last.join('\n')).toContain('service="other"'); // beyond 4 services
  });
});
