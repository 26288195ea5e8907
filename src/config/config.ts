import type { Kind } from '../component/component.js';
import type { Signal } from '../component/consumer.js';
import type { AnyFactory } from '../component/factory.js';
import type { LogLevel } from '../telemetry/logger.js';
import type { EnvOrigins } from './env.js';

/** One configured component: its id, the factory that builds it and its validated, frozen config. */
export interface ComponentConfig {
  readonly kind: Kind;
  readonly id: string;
  readonly type: string;
  readonly factory: AnyFactory;
  readonly config: unknown;
}

export interface PipelineConfig {
  /** `traces`, `traces/jaeger`, `metrics`, ... Receivers and exporters include connectors. */
  readonly id: string;
  readonly signal: Signal;
  readonly receivers: readonly string[];
  readonly processors: readonly string[];
  readonly exporters: readonly string[];
}

export interface TelemetryConfig {
  readonly logs: { readonly level: LogLevel };
  readonly metrics: {
    /** `none` turns the /metrics, /healthz and /readyz server off. */
    readonly level: 'none' | 'basic' | 'normal' | 'detailed';
    readonly address: string;
  };
}

export interface Config {
  /** Where the config came from, for messages and for resolving relative paths. */
  readonly source: string;
  readonly receivers: ReadonlyMap<string, ComponentConfig>;
  readonly processors: ReadonlyMap<string, ComponentConfig>;
  readonly exporters: ReadonlyMap<string, ComponentConfig>;
  /** Exporters of some pipelines and receivers of others (`llm_summary`). */
  readonly connectors: ReadonlyMap<string, ComponentConfig>;
  readonly extensions: ReadonlyMap<string, ComponentConfig>;
  readonly service: {
    readonly extensions: readonly string[];
    readonly pipelines: readonly PipelineConfig[];
    readonly telemetry: TelemetryConfig;
  };
  /** Environment variables referenced without a default and not set (they expanded to ""). */
  readonly unsetEnv: readonly string[];
  /**
   * Which values came from `${env:...}` references, by path (`exporters.otlp/jaeger.endpoint`):
   * messages name the variable to change and never echo a value that came from one.
   */
  readonly env: EnvOrigins;
}

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    if (ArrayBuffer.isView(value)) return value;
    if (value instanceof Map) {
      for (const v of value.values()) deepFreeze(v);
      return value;
    }
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
