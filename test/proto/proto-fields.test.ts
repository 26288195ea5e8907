import { readFileSync } from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { loadOtlpRoot } from '../../src/otlp/proto.js';

/**
 * proto/ must match the published opentelemetry-proto exactly: every message, field name, number,
 * type and rule, every enum value and the three collector services, as listed in
 * ../shared/reference/otlp-v1-fields.json (copied to test/fixtures for a clean clone).
 */
interface Reference {
  messages: Record<string, Record<string, { id: number; type: string; rule?: string; oneof?: string }>>;
  enums: Record<string, Record<string, number>>;
  services: Record<string, Record<string, { request: string; response: string }>>;
}

const reference = JSON.parse(
  readFileSync(new URL('../fixtures/otlp-v1-fields.json', import.meta.url), 'utf8'),
) as Reference;

const root = loadOtlpRoot();

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The type as the reference writes it: relative names are kept relative to the message's package. */
function sameType(field: protobuf.Field, expected: string): boolean {
  const resolved = field.resolvedType;
  if (!resolved) return field.type === expected;
  const full = resolved.fullName.replace(/^\./, '');
  return full === expected || full.endsWith(`.${expected}`);
}

describe('proto/ against the published opentelemetry-proto', () => {
  const messageNames = Object.keys(reference.messages);

  it('defines every reference message and no other OTLP message', () => {
    const ours: string[] = [];
    const walk = (ns: protobuf.NamespaceBase) => {
      for (const nested of ns.nestedArray) {
        if (nested instanceof protobuf.Type) ours.push(nested.fullName.replace(/^\./, ''));
        if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) walk(nested);
      }
    };
    walk(root.lookup('opentelemetry.proto') as protobuf.Namespace);
    expect(ours.sort()).toEqual([...messageNames].sort());
  });

  it.each(messageNames)('%s has exactly the reference fields', (name) => {
    const type = root.lookupType(name);
    const expected = reference.messages[name]!;
    const actual = Object.fromEntries(
      type.fieldsArray.map((f) => {
        f.resolve();
        const oneof = f.partOf?.name;
        return [
          snake(f.name),
          {
            id: f.id,
            typeMatches: sameType(f, expected[snake(f.name)]?.type ?? '?'),
            rule: f.repeated ? 'repeated' : 'optional',
            oneof: oneof && !oneof.startsWith('_') ? oneof : undefined,
          },
        ];
      }),
    );
    const wanted = Object.fromEntries(
      Object.entries(expected).map(([field, spec]) => [
        field,
        {
          id: spec.id,
          typeMatches: true,
          rule: spec.rule ?? 'optional',
          oneof: spec.oneof && !spec.oneof.startsWith('_') ? spec.oneof : undefined,
        },
      ]),
    );
    expect(actual).toEqual(wanted);
  });

  it.each(Object.keys(reference.enums))('enum %s has exactly the reference values', (name) => {
    expect(root.lookupEnum(name).values).toEqual(reference.enums[name]);
  });

  it.each(Object.keys(reference.services))('service %s has the reference methods', (name) => {
    const service = root.lookupService(name);
    const methods = Object.fromEntries(
      service.methodsArray.map((m) => [m.name, { request: m.requestType, response: m.responseType }]),
    );
    expect(methods).toEqual(reference.services[name]);
  });
});
