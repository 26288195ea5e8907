import { describe, expect, it } from 'vitest';
import { jsonAttributes, jsonScalar, jsonServiceName } from '../../src/otlp/json-attributes.js';

describe('OTLP/JSON attributes', () => {
  it('reads scalars as OTLP/JSON carries them and leaves other values out', () => {
    const m = jsonAttributes([
      { key: 's', value: { stringValue: 'x' } },
      { key: 'i', value: { intValue: '9007199254740993' } },
      { key: 'd', value: { doubleValue: 0.5 } },
      { key: 'b', value: { boolValue: false } },
      { key: 'a', value: { arrayValue: { values: [] } } },
      { key: 'none' },
    ]);
    expect([...m]).toEqual([
      ['s', 'x'],
      ['i', '9007199254740993'],
      ['d', 0.5],
      ['b', false],
    ]);
    expect(jsonScalar({ kvlistValue: {} })).toBeUndefined();
  });

  it('names the service, or unknown_service as the SDKs default it', () => {
    expect(jsonServiceName([{ key: 'service.name', value: { stringValue: 'cart' } }])).toBe('cart');
    expect(jsonServiceName([{ key: 'service.name', value: { intValue: '1' } }])).toBe(
      'unknown_service',
    );
    expect(jsonServiceName(undefined)).toBe('unknown_service');
  });
});
