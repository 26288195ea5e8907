import type { AttrValue } from './span-decode.js';

/**
 * What may leave the process in a prompt, a webhook or a summary: span attributes pass only if
 * their key matches `allow_attributes` and no `deny_attributes` pattern (globs, `*` any run of
 * characters, case-insensitive); every text that goes out (attribute values, span and service
 * names, status messages) has secrets and personal data masked when `mask_values` is on.
 */
export interface RedactionConfig {
  readonly allow_attributes: readonly string[];
  readonly deny_attributes: readonly string[];
  readonly mask_values: boolean;
}

/** Keys that describe what a span did without saying who or with which credentials. */
export const DEFAULT_ALLOW: readonly string[] = [
  'http.request.method',
  'http.method',
  'http.route',
  'http.response.status_code',
  'http.status_code',
  'url.path',
  'url.scheme',
  'server.address',
  'server.port',
  'peer.service',
  'db.system*',
  'db.operation*',
  'db.collection.name',
  'db.namespace',
  'db.name',
  'rpc.system',
  'rpc.service',
  'rpc.method',
  'rpc.grpc.status_code',
  'messaging.system',
  'messaging.operation*',
  'messaging.destination.name',
  'error.type',
  'exception.type',
  'otel.status_code',
  'network.protocol.*',
  'code.function*',
  'code.namespace',
];

/** Never sent, even when allowed: credentials, headers, personal data, raw queries and bodies. */
export const DEFAULT_DENY: readonly string[] = [
  '*authorization*',
  '*cookie*',
  '*token*',
  '*password*',
  '*passwd*',
  '*secret*',
  '*api_key*',
  '*apikey*',
  '*api-key*',
  '*credential*',
  '*session*',
  '*private*',
  'http.request.header.*',
  'http.response.header.*',
  'rpc.*.metadata.*',
  '*email*',
  '*phone*',
  '*ssn*',
  '*card*',
  '*iban*',
  'enduser.*',
  'user.*',
  'client.*',
  'network.peer.*',
  'net.sock.peer.*',
  'user_agent.*',
  'url.full',
  'url.query',
  'http.url',
  'http.target',
  'db.statement',
  'db.query.text',
  'messaging.message.body',
];

/** Longest text sent for one value; the rest is cut. */
const MAX_VALUE_CHARS = 200;

interface Mask {
  readonly pattern: RegExp;
  readonly replace: string | ((match: string) => string);
}

const MASKS: readonly Mask[] = [
  // JSON Web Tokens, before anything else takes a part of them.
  { pattern: /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*/g, replace: '[jwt]' },
  { pattern: /\b(bearer|basic|digest|token)(\s+)[\w.~+/=-]{6,}/gi, replace: '$1$2[redacted]' },
  {
    pattern:
      /\b(access_token|refresh_token|id_token|token|api[_-]?key|key|secret|password|passwd|pwd|auth|sig|signature|session(?:_?id)?|code)=[^&\s#;,"']+/gi,
    replace: '$1=[redacted]',
  },
  {
    pattern:
      /\b(?:sk-[\w-]{16,}|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[\w-]{10,}|AIza[\w-]{35})/g,
    replace: '[secret]',
  },
  { pattern: /[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}/g, replace: '[email]' },
  { pattern: /\b\d(?:[ -]?\d){12,18}\b/g, replace: (m) => (luhn(m) ? '[card]' : m) },
  { pattern: /\+\d[\d ().-]{7,}\d/g, replace: '[phone]' },
  { pattern: /\b(?:\d{1,3}\.){3}\d{1,3}\b/g, replace: '[ip]' },
  {
    pattern:
      /\b(?:[0-9a-f]{1,4}:){4,7}[0-9a-f]{1,4}\b|(?:\b[0-9a-f]{1,4}:)+:(?:[0-9a-f]{1,4}\b:?)*/gi,
    replace: '[ip]',
  },
  // Long opaque strings: keys, hashes, signed URLs.
  { pattern: /\b[0-9a-f]{32,}\b/gi, replace: '[redacted]' },
  { pattern: /[A-Za-z0-9+_-]{40,}={0,2}/g, replace: '[redacted]' },
];

export class Redactor {
  private readonly allow: RegExp | undefined;
  private readonly deny: RegExp | undefined;

  constructor(private readonly config: RedactionConfig) {
    this.allow = globs(config.allow_attributes);
    this.deny = globs(config.deny_attributes);
  }

  /** Whether an attribute key may be sent. */
  allowsKey(key: string): boolean {
    return (this.allow?.test(key) ?? false) && !(this.deny?.test(key) ?? false);
  }

  /**
   * The attributes that may be sent, values masked, in their order; `anomaly.*` attributes are
   * left out (the prompt states them itself). `withheld` counts the ones left out by the lists.
   */
  attributes(attrs: ReadonlyMap<string, AttrValue>): {
    kept: [string, AttrValue][];
    withheld: number;
  } {
    const kept: [string, AttrValue][] = [];
    let withheld = 0;
    for (const [key, value] of attrs) {
      if (key.startsWith('anomaly.')) continue;
      if (!this.allowsKey(key)) {
        withheld++;
        continue;
      }
      kept.push([key, typeof value === 'string' ? this.text(value) : value]);
    }
    return { kept, withheld };
  }

  /** A text with secrets and personal data masked (when `mask_values`), and cut to `max` chars. */
  text(value: string, max = MAX_VALUE_CHARS): string {
    let s = value.length > max * 4 ? value.slice(0, max * 4) : value;
    if (this.config.mask_values) {
      for (const m of MASKS) {
        s =
          typeof m.replace === 'string'
            ? s.replace(m.pattern, m.replace)
            : s.replace(m.pattern, m.replace);
      }
    }
    return s.length > max ? `${s.slice(0, max)}...` : s;
  }
}

function globs(patterns: readonly string[]): RegExp | undefined {
  if (patterns.length === 0) return undefined;
  const parts = patterns.map((p) =>
    p
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*'),
  );
  return new RegExp(`^(?:${parts.join('|')})$`, 'i');
}

/** The Luhn check every payment card number passes (and most other digit runs fail). */
function luhn(text: string): boolean {
  const digits = text.replace(/\D/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}
