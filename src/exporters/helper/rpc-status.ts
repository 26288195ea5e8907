import { otlpTypes } from '../../otlp/proto.js';

/** What a downstream's `google.rpc.Status` says: its message and the RetryInfo wait, if any. */
export interface RpcStatus {
  readonly message: string;
  readonly retryDelayMs: number | undefined;
}

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';

/**
 * Decodes an encoded `google.rpc.Status` (gRPC `grpc-status-details-bin`, OTLP/HTTP protobuf
 * error bodies). Undefined when the bytes are not one.
 */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus | undefined {
  try {
    const t = otlpTypes();
    const status = t.status.toObject(t.status.decode(bytes), { longs: Number }) as {
      message?: string;
      details?: Array<{ type_url?: string; value?: Uint8Array }>;
    };
    let retryDelayMs: number | undefined;
    for (const d of status.details ?? []) {
      // protobufjs's own google.protobuf.Any keeps the snake_case field name.
      if (d.type_url !== RETRY_INFO || !d.value) continue;
      const info = t.retryInfo.toObject(t.retryInfo.decode(d.value), { longs: Number }) as {
        retryDelay?: { seconds?: number; nanos?: number };
      };
      if (info.retryDelay) {
        retryDelayMs = (info.retryDelay.seconds ?? 0) * 1000 + (info.retryDelay.nanos ?? 0) / 1e6;
      }
    }
    return { message: status.message ?? '', retryDelayMs };
  } catch {
    return undefined;
  }
}

/** The same from OTLP/JSON (`{"code":8,"message":"...","details":[{"@type":"...RetryInfo","retryDelay":"2.5s"}]}`). */
export function decodeRpcStatusJson(text: string): RpcStatus | undefined {
  try {
    const doc = JSON.parse(text) as {
      message?: unknown;
      details?: Array<{ '@type'?: string; retryDelay?: unknown }>;
    } | null;
    if (!doc || typeof doc !== 'object') return undefined;
    let retryDelayMs: number | undefined;
    for (const d of Array.isArray(doc.details) ? doc.details : []) {
      if (d['@type'] !== RETRY_INFO || typeof d.retryDelay !== 'string') continue;
      const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay);
      if (m) retryDelayMs = Number(m[1]) * 1000;
    }
    return { message: typeof doc.message === 'string' ? doc.message : '', retryDelayMs };
  } catch {
    return undefined;
  }
}
