import { describe, expect, it } from 'vitest';
import { PayloadTooLargeError } from '../../src/component/errors.js';
import { checkJsonBounds, maxJsonValues } from '../../src/otlp/json-bounds.js';
import { protoToJson } from '../../src/otlp/json-encode.js';
import { decodeRequest } from '../../src/receiver/otlp/decode.js';
import { traceRequest } from '../helpers/spans.js';

const LIMIT = maxJsonValues(20 * 1024 * 1024);

describe('OTLP/JSON bounds, checked before JSON.parse', () => {
  it('allows one value per 16 bytes of the body limit (1,310,720 for 20 MiB)', () => {
    expect(LIMIT).toBe(1_310_720);
  });

  it('refuses 20 MB of {"x":[{},{},...]} (an unknown field) with 413, without parsing it', () => {
    const bomb = Buffer.from(`{"x":[${'{},'.repeat(7_000_000)}{}]}`);
    expect(() => decodeRequest('traces', bomb, 'json', false, LIMIT)).toThrow(PayloadTooLargeError);
    expect(() => checkJsonBounds(bomb, LIMIT)).toThrow(
      'the OTLP/JSON body holds more than 1310720 values',
    );
  });

  it('passes what the SDK sends: a 512-span request is far below the bound', () => {
    const json = Buffer.from(JSON.stringify(protoToJson('traces', traceRequest(512))));
    expect(() => checkJsonBounds(json, maxJsonValues(json.length))).not.toThrow();
    expect(decodeRequest('traces', json, 'json', false, LIMIT).batch.items).toBe(512);
  });

  it('does not count braces, brackets and commas inside strings (escaped quotes included)', () => {
    const text = `{"resourceSpans":[],"x":"${'{[,\\\\\\"'.repeat(1000)}"}`;
    expect(() => JSON.parse(text)).not.toThrow();
    expect(() => checkJsonBounds(Buffer.from(text), 10)).not.toThrow();
  });

  it('refuses nesting past what the protobuf walker allows, before parsing', () => {
    const deep = Buffer.from(`{"x":${'['.repeat(200)}${']'.repeat(200)}}`);
    expect(() => checkJsonBounds(deep, LIMIT)).toThrow('JSON nested deeper than 64 message levels');
    expect(() => decodeRequest('traces', deep, 'json', false, LIMIT)).toThrow(
      'cannot decode the OTLP/JSON ExportTraceServiceRequest: JSON nested deeper',
    );
  });
});
