import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
  type ReadableLogRecord,
} from '@opentelemetry/sdk-logs';
import { resourceAttributes } from './spans.js';

/** Log records made by the real OpenTelemetry JS logs SDK. */
export function makeLogRecords(service: string, count: number): ReadableLogRecord[] {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resourceAttributes(service)),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger('hourglass-test', '1.0.0');
  for (let i = 0; i < count; i++) {
    logger.emit({
      severityNumber: SeverityNumber.WARN,
      severityText: 'WARN',
      body: { message: `cart ${i} is slow`, cart: i },
      attributes: { 'cart.id': i, 'user.tier': 'gold' },
      timestamp: Date.UTC(2026, 0, 5, 9, 0, i),
    });
  }
  return exporter.getFinishedLogRecords();
}
