import type { Reading, ReadingSummary } from '../metrics/index.js';
import type { RateVerdict, SpanAnomaly } from '../../../../analysis/anomaly-attributes.js';
import type { AnalysedSpan } from '../../../../analysis/origin.js';
import type { Redactor } from '../redaction/redact.js';

/** Wording shared by the prompt and the built-in summary, so both state numbers the same way. */

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const LABELS = ['critical', 'major', 'moderate', 'minor', 'low'];

export const kindName = (k: number) => KINDS[k] ?? String(k);
export const severityText = (n: number) => `SEV${n}`;
export const severityLabel = (n: number) => LABELS[n - 1] ?? '';

/** `12.3 ms`, `1.25 s`. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  if (a >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (a >= 1000) return `${(v / 1000).toFixed(2)} s`;
  return `${v.toFixed(a < 10 ? 2 : 1)} ms`;
}

/** A percentage as measured: 0.1% stays 0.1%, small values keep their digits. */
function percent(v: number): string {
  if (!Number.isFinite(v)) return 'n/a';
  const a = Math.abs(v);
  const digits = a === 0 ? 1 : a < 0.01 ? 4 : a < 0.1 ? 3 : a < 10 ? 2 : 1;
  return `${Number(v.toFixed(digits))}%`;
}

function bytes(v: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let x = v;
  let i = 0;
  while (Math.abs(x) >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i === 0 ? x.toFixed(0) : x.toFixed(1)} ${units[i]}`;
}

export const times = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)}x` : 'n/a');

/**
 * What an `errors` or `traffic` verdict measured, in words: `errors in 31% of its operation's
 * recent spans, usually 0.9%; most often CardDeclined` or `610 spans of its operation in the last
 * minute, usually 118 a minute`.
 */
export function rateText(v: RateVerdict, r: Redactor): string {
  if (v.detector === 'traffic') {
    return `${count(v.rate)} spans of its operation in the last minute, usually ${count(v.baselineRate)} a minute`;
  }
  const type = v.errorType === '' ? '' : `; most often ${r.text(v.errorType)}`;
  return `errors in ${percent(v.rate * 100)} of its operation's recent spans, usually ${percent(v.baselineRate * 100)}${type}`;
}

/**
 * A verdict in a few words: `7.3x its mean of 80.0 ms`, `errors 31%, usually 0.9%`, `610 spans/min,
 * usually 118`.
 */
export function verdictBrief(an: SpanAnomaly): string {
  const v = an.rate;
  if (v === undefined) return `${times(an.ratio)} its mean of ${ms(an.meanMs)}`;
  if (v.detector === 'traffic') {
    return `${count(v.rate)} spans/min, usually ${count(v.baselineRate)}`;
  }
  return `errors ${percent(v.rate * 100)}, usually ${percent(v.baselineRate * 100)}`;
}

const count = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : 'n/a');
export const sigmas = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : 'n/a');

/** `payments "POST /charge" (server)`, names masked. */
export function spanLabel(s: AnalysedSpan, r: Redactor, quoted = true): string {
  const name = r.text(s.span.name);
  return `${r.text(s.span.service)} ${quoted ? `"${name}"` : name} (${kindName(s.span.kind)})`;
}

const READING_NAMES: Record<Reading, string> = {
  cpu: 'CPU',
  memory: 'memory',
  request_rate: 'requests',
  error_rate: 'errors',
  latency_p50: 'latency p50',
  latency_p95: 'latency p95',
  latency_p99: 'latency p99',
};

function readingValue(reading: Reading, v: number): string {
  if (reading === 'cpu' || reading === 'error_rate') return percent(v);
  if (reading === 'memory') return bytes(v);
  if (reading === 'request_rate') return `${v.toFixed(v < 10 ? 2 : 1)}/s`;
  return ms(v);
}

/** `CPU 0.1% (min 0.1%, max 0.3%)`: the value at the time, and the range over the window. */
export function readingText(r: ReadingSummary): string {
  const value = readingValue(r.reading, r.last);
  const range =
    r.samples > 1 && r.min !== r.max
      ? ` (min ${readingValue(r.reading, r.min)}, max ${readingValue(r.reading, r.max)})`
      : '';
  return `${READING_NAMES[r.reading]} ${value}${range}`;
}
