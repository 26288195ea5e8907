import type { Signal } from '../component/consumer.js';
import { redactUrlCredentials } from '../telemetry/redact-url.js';
import type { Config } from './config.js';

/** Where a network exporter sends, as the start-up log and `hourglass validate` say it. */
export interface Destination {
  readonly exporter: string;
  readonly signals: readonly Signal[];
  /** The setting's full path, `exporters.otlp/jaeger.endpoint`. */
  readonly setting: string;
  /** The endpoint or URL, credentials replaced by `[REDACTED]`. */
  readonly address: string;
  /** `(JAEGER_OTLP_ENDPOINT)`, `(the default; set JAEGER_OTLP_ENDPOINT to change it)`, ... */
  readonly source: string;
}

/** The destinations of the exporters that the pipelines use, one per exporter and address. */
export function destinations(config: Config): Destination[] {
  const out = new Map<string, { d: Omit<Destination, 'signals'>; signals: Signal[] }>();
  for (const p of config.service.pipelines) {
    for (const id of p.exporters) {
      const c = config.exporters.get(id);
      if (c?.factory.kind !== 'exporter' || !c.factory.targets) continue;
      for (const t of c.factory.targets(c.config, p.signal)) {
        const setting = `exporters.${id}.${t.setting}`;
        const address = redactUrlCredentials(t.address);
        const key = `${id}\u0000${setting}\u0000${address}`;
        let entry = out.get(key);
        if (!entry) {
          entry = {
            d: { exporter: id, setting, address, source: sourceOf(config, setting) },
            signals: [],
          };
          out.set(key, entry);
        }
        if (!entry.signals.includes(p.signal)) entry.signals.push(p.signal);
      }
    }
  }
  return [...out.values()].map(({ d, signals }) => ({ ...d, signals }));
}

/**
 * How to tell a user which setting to change: `JAEGER_OTLP_ENDPOINT (exporters.otlp/jaeger.endpoint)`
 * when the value came from an environment variable, else the setting's path.
 */
export function settingToChange(config: Pick<Config, 'env'>, path: string): string {
  const names = [...new Set(config.env.get(path)?.references.map((r) => r.name) ?? [])];
  return names.length > 0 ? `${names.join(', ')} (${path})` : path;
}

function sourceOf(config: Config, path: string): string {
  const refs = config.env.get(path)?.references ?? [];
  const set = refs.filter((r) => r.resolution === 'set').map((r) => r.name);
  if (set.length > 0) return `(${set.join(', ')})`;
  if (refs.length > 0)
    return `(the default; set ${refs.map((r) => r.name).join(', ')} to change it)`;
  return `(${path})`;
}
