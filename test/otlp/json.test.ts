import {
  JsonLogsSerializer,
  JsonTraceSerializer,
  ProtobufLogsSerializer,
  ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { jsonToProto } from '../../src/otlp/json-decode.js';
import { protoToJson } from '../../src/otlp/json-encode.js';
import { makeLogRecords } from '../helpers/logs.js';
import { makeSpans } from '../helpers/spans.js';

import { decodeReference } from '../helpers/reference-decoder.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('OTLP/JSON to protobuf', () => {
  const spans = makeSpans('checkout', [
    { durationMs: 12 },
    {
      durationMs: 250,
      error: true,
      attributes: { big: 2 ** 60, neg: -3, ratio: 0.25, tags: ['a', 'b'], ok: true },
    },
  ]);

  it('gives the same message as the SDK protobuf serializer for the SDK JSON serializer output', () => {
    const fromJson = jsonToProto('traces', text(JsonTraceSerializer.serializeRequest(spans)!));
    const fromProto = ProtobufTraceSerializer.serializeRequest(spans)!;
    expect(decodeReference('traces', fromJson)).toEqual(decodeReference('traces', fromProto));
    expect(decodeReference('traces', fromJson).resourceSpans[0].scopeSpans[0].spans).toHaveLength(
      2,
    );
  });

  it('handles logs the same way', () => {
    const records = makeLogRecords('checkout', 3);
    expect(records).toHaveLength(3);
    const fromJson = jsonToProto('logs', text(JsonLogsSerializer.serializeRequest(records)!));
    expect(decodeReference('logs', fromJson)).toEqual(
      decodeReference('logs', ProtobufLogsSerializer.serializeRequest(records)!),
    );
  });

  it('accepts snake_case keys, enum names, 64-bit integers as numbers and ignores unknown fields', () => {
    const bytes = jsonToProto(
      'traces',
      JSON.stringify({
        resource_spans: [
          {
            scope_spans: [
              {
                spans: [
                  {
                    trace_id: '5B8EFFF798038103D269B633813FC60C',
                    span_id: 'EEE19B7EC3C1B174',
                    name: 'op',
                    kind: 'SPAN_KIND_SERVER',
                    start_time_unix_nano: 1544712660000000000,
                    endTimeUnixNano: '1544712661000000000',
                    somethingNew: { nested: true },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    const span = (protoToJson('traces', bytes) as any).resourceSpans[0].scopeSpans[0].spans[0];
    expect(span).toEqual({
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      name: 'op',
      kind: 2,
      startTimeUnixNano: '1544712660000000000',
      endTimeUnixNano: '1544712661000000000',
    });
  });

  const span = (fields: Record<string, unknown>) =>
    JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: '5b8efff798038103d269b633813fc60c',
                  spanId: 'eee19b7ec3c1b174',
                  ...fields,
                },
              ],
            },
          ],
        },
      ],
    });
  const attr = (value: unknown) => span({ attributes: [{ key: 'k', value }] });
  const at = 'resourceSpans[0].scopeSpans[0].spans[0]';

  it.each([
    ['not JSON', '{"resourceSpans": [', /^invalid JSON: /],
    ['not an object', '[1,2]', 'invalid OTLP/JSON: the request must be a JSON object'],
    [
      'a trace id that is not hex',
      span({ traceId: 'zz8efff798038103d269b633813fc60c' }),
      `${at}.traceId: "zz8efff798038103d269b633813fc60c" is not a 32-character hex trace id`,
    ],
    [
      'a span id of the wrong length',
      span({ spanId: 'eee19b' }),
      `${at}.spanId: "eee19b" is not a 16-character hex span id`,
    ],
    ['a name that is a number', span({ name: 42 }), `${at}.name: expected a string, got number 42`],
    [
      'a time that is not an integer',
      span({ startTimeUnixNano: 'soon' }),
      `${at}.startTimeUnixNano: expected an integer (a number or a decimal string), got "soon"`,
    ],
    [
      'a huge number',
      span({ startTimeUnixNano: 1e300 }),
      `${at}.startTimeUnixNano: 1e+300 is out of range for fixed64`,
    ],
    [
      'a negative fixed64',
      span({ endTimeUnixNano: '-5' }),
      `${at}.endTimeUnixNano: -5 is out of range for fixed64`,
    ],
    [
      'an int64 beyond 2^63',
      attr({ intValue: '9223372036854775808' }),
      `${at}.attributes[0].value.intValue: 9223372036854775808 is out of range for int64`,
    ],
    [
      'an unknown enum name',
      span({ kind: 'SPAN_KIND_BOGUS' }),
      `${at}.kind: expected an enum value (an integer), got "SPAN_KIND_BOGUS"`,
    ],
    [
      'two values of one oneof',
      attr({ stringValue: 'a', intValue: 1 }),
      `${at}.attributes[0].value.intValue: only one of stringValue and intValue may be set`,
    ],
    [
      'a list where an object belongs',
      span({ status: [] }),
      `${at}.status: expected an object, got an array`,
    ],
    [
      'an object where a list belongs',
      span({ attributes: {} }),
      `${at}.attributes: expected an array, got an object`,
    ],
    [
      'invalid base64 bytes',
      attr({ bytesValue: '***' }),
      `${at}.attributes[0].value.bytesValue: expected base64 bytes, got "***"`,
    ],
    [
      'a boolean that is a string',
      attr({ boolValue: 'true' }),
      `${at}.attributes[0].value.boolValue: expected true or false, got "true"`,
    ],
  ])('rejects %s with the path and what was wrong', (_name, body, message) => {
    expect(() => jsonToProto('traces', body)).toThrow(message);
  });

  it('rejects nesting deeper than 64 levels without exhausting the stack', () => {
    let value = '{"stringValue":"leaf"}';
    for (let i = 0; i < 5000; i++) value = `{"arrayValue":{"values":[${value}]}}`;
    const body = span({ attributes: [{ key: 'k', value: '__V__' }] }).replace('"__V__"', value);
    expect(() => jsonToProto('traces', body)).toThrow('objects nested deeper than 64 levels');
  });
});
