import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { resourceAttributes } from './spans.js';

class ManualReader extends MetricReader {
  protected async onShutdown(): Promise<void> {}
  protected async onForceFlush(): Promise<void> {}
}

/**
 * Metrics made by the real OpenTelemetry JS metrics SDK: a counter, a gauge, a histogram and an
 * up-down counter with attributes, collected once.
 */
export async function makeResourceMetrics(service: string): Promise<ResourceMetrics> {
  const reader = new ManualReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes(resourceAttributes(service)),
    readers: [reader],
  });
  const meter = provider.getMeter('hourglass-test', '1.0.0');
  const requests = meter.createCounter('http.server.requests', { unit: '{request}' });
  const duration = meter.createHistogram('http.server.request.duration', { unit: 's' });
  const active = meter.createUpDownCounter('http.server.active_requests');
  const cpu = meter.createObservableGauge('process.cpu.utilization', { unit: '1' });
  cpu.addCallback((r) => r.observe(0.013, { 'cpu.mode': 'user' }));
  for (const route of ['/api/cart', '/api/checkout']) {
    requests.add(7, { 'http.route': route, 'http.response.status_code': 200 });
    duration.record(0.021, { 'http.route': route });
    duration.record(0.35, { 'http.route': route });
    active.add(-2, { 'http.route': route });
  }
  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length > 0) throw errors[0];
  await provider.shutdown();
  return resourceMetrics;
}
