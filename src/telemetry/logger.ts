import { pino, type Logger, type DestinationStream } from 'pino';
import { redactUrlCredentials } from './redact-url.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * The process logger: pino JSON on stderr (stdout is left to the debug exporter). Components get
 * `logger.child({ component: 'kind/id' })` from the service; nothing is logged per span.
 */
export function createLogger(level: LogLevel = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'hourglass' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: {
        paths: [
          '*.headers.authorization',
          '*.headers.Authorization',
          '*.api_key',
          '*.apiKey',
          '*.token',
          '*.bearer_token',
        ],
        censor: '[REDACTED]',
      },
      // Credentials in URLs (`http://user:pass@host`), wherever they appear in a line.
      hooks: { streamWrite: redactUrlCredentials },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and tools that want silence. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
