/**
 * Credentials written into a URL (`http://user:pass@host:4318`) never reach a log line or an
 * error message: the user-info part is replaced, the rest of the URL kept (it says where data
 * goes). Applied to exporter endpoints as they are logged, and to every log line the process
 * writes (`telemetry/logger.ts`), error messages and stacks included.
 */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'\\]+@/gi;

const REDACTED_USERINFO = '[REDACTED]@';

export function redactUrlCredentials(text: string): string {
  return text.includes('@') ? text.replace(USERINFO, `$1${REDACTED_USERINFO}`) : text;
}
