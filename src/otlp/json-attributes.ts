/** Attributes as OTLP/JSON writes them (`protoToJson`): `{ key, value: AnyValue }`. */
export interface JsonKeyValue {
  key: string;
  value?: Record<string, unknown>;
}

export type JsonScalar = string | number | boolean;

/** The scalar of an OTLP/JSON AnyValue (an int64 stays the string JSON carries), or undefined. */
export function jsonScalar(value: Record<string, unknown> | undefined): JsonScalar | undefined {
  const v = value ?? {};
  const x = v['stringValue'] ?? v['intValue'] ?? v['doubleValue'] ?? v['boolValue'];
  return typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean' ? x : undefined;
}

/** The scalar attributes of a list (arrays, maps and bytes are left out). */
export function jsonAttributes(list: readonly JsonKeyValue[] | undefined): Map<string, JsonScalar> {
  const out = new Map<string, JsonScalar>();
  for (const kv of list ?? []) {
    const x = jsonScalar(kv.value);
    if (x !== undefined) out.set(kv.key, x);
  }
  return out;
}

/**
 * `service.name` of a resource's attributes (a string value, as `findServiceName` reads it from
 * protobuf), or `unknown_service` as the SDKs default it.
 */
export function jsonServiceName(list: readonly JsonKeyValue[] | undefined): string {
  const name = list?.find((a) => a.key === 'service.name')?.value?.['stringValue'];
  return typeof name === 'string' ? name : 'unknown_service';
}
