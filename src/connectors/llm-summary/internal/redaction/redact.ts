import { maskSecrets } from '../../../../telemetry/mask-secrets.js';
import type { AttrValue } from '../../../../otlp/span-decode.js';

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

  /** A text with secrets and personal data masked (when `mask_values`), and cut to size. */
  text(value: string): string {
    let s = value.length > MAX_VALUE_CHARS * 4 ? value.slice(0, MAX_VALUE_CHARS * 4) : value;
    if (this.config.mask_values) s = maskSecrets(s);
    return s.length > MAX_VALUE_CHARS ? `${s.slice(0, MAX_VALUE_CHARS)}...` : s;
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
