import { z } from 'zod';
import type { Exporter } from '../../src/component/component.js';
import type { ExporterFactory } from '../../src/component/factory.js';
import { protoToJson } from '../../src/otlp/json-encode.js';

/** A tagged span as the demo shows it. */
export interface TaggedSpan {
  readonly service: string;
  readonly name: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly attributes: Record<string, string | number>;
}

interface JsonValue {
  stringValue?: string;
  intValue?: string;
  doubleValue?: number;
}

/**
 * The demo's exporter: a real component at the end of the pipeline that counts every span and
 * keeps those the anomaly processor tagged (`anomaly.*` attributes), so the demo can show them.
 * In a deployment the `debug` or `file` exporter (or Jaeger) shows the same attributes.
 */
export class TaggedSpans {
  spans = 0;
  readonly tagged: TaggedSpan[] = [];

  readonly factory: ExporterFactory<Record<string, never>> = {
    kind: 'exporter',
    type: 'demo_tagged',
    signals: ['traces'],
    configSchema: z.strictObject({}),
    create: (): Exporter => ({
      start: async () => undefined,
      shutdown: async () => undefined,
      consume: async (batch) => {
        this.spans += batch.items;
        this.collect(protoToJson('traces', batch.bytes));
      },
    }),
  };

  private collect(request: Record<string, unknown>): void {
    const resourceSpans = (request['resourceSpans'] ?? []) as {
      resource?: { attributes?: { key: string; value: JsonValue }[] };
      scopeSpans?: {
        spans?: {
          name: string;
          startTimeUnixNano: string;
          endTimeUnixNano: string;
          attributes?: { key: string; value: JsonValue }[];
        }[];
      }[];
    }[];
    for (const rs of resourceSpans) {
      const service =
        rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attributes: Record<string, string | number> = {};
          for (const a of s.attributes ?? []) {
            if (!a.key.startsWith('anomaly.')) continue;
            const v = a.value;
            attributes[a.key] = v.stringValue ?? v.doubleValue ?? Number(v.intValue);
          }
          if (!('anomaly.severity' in attributes)) continue;
          const start = BigInt(s.startTimeUnixNano);
          this.tagged.push({
            service,
            name: s.name,
            startMs: Number(start / 1_000_000n),
            durationMs: Number(BigInt(s.endTimeUnixNano) - start) / 1e6,
            attributes,
          });
        }
      }
    }
  }
}
