import { parseDuration } from '../../config/duration.js';
import { didYouMean } from '../../config/suggest.js';
import { parseSeverity, parseSpanKind } from '../../detectors/anomaly/contract.js';

/** A query parameter was wrong: answered 400 with this message. */
export class BadRequest extends Error {}

/** `_`: a cache buster (the console adds one), taken by every route and never read. */
const CACHE_BUSTER = '_';

/**
 * Reads and checks query parameters; each getter names the parameter in its error. A route takes
 * the parameters it declares: another (a typo, `severity` for `min_severity`) is answered 400
 * instead of being ignored, which would answer as if no filter had been asked for.
 */
export class Params {
  constructor(
    private readonly q: URLSearchParams,
    private readonly declared: readonly string[],
  ) {}

  /** Throws BadRequest for a parameter the route does not take. */
  checkNames(path: string): void {
    for (const name of new Set(this.q.keys())) {
      if (name === CACHE_BUSTER || this.declared.includes(name)) continue;
      const takes = this.declared.length === 0 ? 'takes none' : `takes ${this.declared.join(', ')}`;
      throw new BadRequest(
        `unknown parameter "${name}"${didYouMean(name, this.declared)}; ${path} ${takes}`,
      );
    }
  }

  text(name: string): string | undefined {
    // A route reading what it does not declare is a bug of this code: answered 500 in tests.
    if (!this.declared.includes(name)) throw new Error(`the route reads "${name}" undeclared`);
    const v = this.q.get(name);
    return v === null || v === '' ? undefined : v;
  }

  severity(name: string): number | undefined {
    const v = this.text(name);
    if (v === undefined) return undefined;
    const n = parseSeverity(v);
    if (n === undefined)
      throw new BadRequest(`${name}: "${v}" is not a severity; use SEV1 .. SEV5`);
    return n;
  }

  kind(name: string): number | undefined {
    const v = this.text(name);
    if (v === undefined) return undefined;
    const k = parseSpanKind(v);
    if (k === undefined) {
      throw new BadRequest(
        `${name}: "${v}" is not a span kind; use unspecified, internal, server, client, producer or consumer`,
      );
    }
    return k;
  }

  /** RFC 3339 time, milliseconds since the epoch, or a duration back from now ("1h"). */
  time(name: string, now: number): number | undefined {
    const v = this.text(name);
    if (v === undefined) return undefined;
    if (/^\d+$/.test(v)) return Number(v);
    const ago = parseDuration(v);
    if (ago !== undefined) return now - ago;
    const t = Date.parse(v);
    if (/^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(t)) return t;
    throw new BadRequest(
      `${name}: "${v}" is not a time; use RFC 3339 (2026-01-12T09:00:00Z), epoch milliseconds or a duration back from now (1h)`,
    );
  }

  /** A positive duration (`10m`, `1h`), in milliseconds. */
  duration(name: string): number | undefined {
    const v = this.text(name);
    if (v === undefined) return undefined;
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) {
      throw new BadRequest(
        `${name}: "${v}" is not a duration; use a positive one such as 10m or 1h`,
      );
    }
    return ms;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const v = this.text(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new BadRequest(`${name}: "${v}" must be an integer from ${min} to ${max}`);
    }
    return n;
  }
}
