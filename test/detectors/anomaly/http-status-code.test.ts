import { describe, expect, it } from 'vitest';
import {
  httpStatusCode,
  isErrorSpan,
} from '../../../src/detectors/anomaly/internal/rates/error-detail.js';
import { ProtoWriter, WIRE_LEN, WIRE_VARINT } from '../../../src/otlp/wire.js';
import type { SpanRef } from '../../../src/otlp/trace-index.js';

// Span.attributes (9) -> KeyValue { key (1), value (2) -> AnyValue { string (1) | int (3) } }.
type Field = ['key', string] | ['string', string] | ['int', number];

function keyValue(w: ProtoWriter, fields: readonly Field[]): void {
  w.fork();
  for (const [kind, v] of fields) {
    if (kind === 'key') w.tag(1, WIRE_LEN).string(v);
    else if (kind === 'string') w.fork().tag(1, WIRE_LEN).string(v).join(2);
    else w.fork().tag(3, WIRE_VARINT).varint(v).join(2);
  }
  w.join(9);
}

/** A server span without a status whose attributes are KeyValues of these fields, in this order. */
function span(attributes: readonly (readonly Field[])[]): { bytes: Uint8Array; ref: SpanRef } {
  const w = new ProtoWriter();
  w.tag(5, WIRE_LEN).string('GET /cart').tag(6, WIRE_VARINT).varint(2);
  for (const a of attributes) keyValue(w, a);
  const bytes = w.finish();
  const ref = { start: 0, end: bytes.length, kind: 2, statusCode: 0 } as SpanRef;
  return { bytes, ref };
}

const code = (attributes: readonly (readonly Field[])[]) => {
  const { bytes, ref } = span(attributes);
  return httpStatusCode(bytes, ref);
};

describe('httpStatusCode', () => {
  it('reads the code as SDKs write it, a string or an int, under either key', () => {
    const other: Field[] = [
      ['key', 'http.request.method'],
      ['string', 'GET'],
    ];
    expect(
      code([
        other,
        [
          ['key', 'http.response.status_code'],
          ['string', '503'],
        ],
      ]),
    ).toBe(503);
    expect(
      code([
        [
          ['key', 'http.status_code'],
          ['int', 500],
        ],
        other,
      ]),
    ).toBe(500);
    expect(code([other])).toBe(0);
  });

  it('passes over keys of the same length as a status code key that are not one', () => {
    // 16 and 25 bytes, as `http.status_code` and `http.response.status_code`.
    expect(
      code([
        [
          ['key', 'http.status_text'],
          ['string', '500'],
        ],
      ]),
    ).toBe(0);
    expect(
      code([
        [
          ['key', 'http.response.body.sizes'],
          ['int', 503],
        ],
      ]),
    ).toBe(0);
  });

  it('reads KeyValues written in another order, or with a repeated key, as protobuf does', () => {
    // The value first, then the key.
    expect(
      code([
        [
          ['int', 502],
          ['key', 'http.status_code'],
        ],
      ]),
    ).toBe(502);
    // A repeated key: the last one counts, here a status code key after another of other length.
    expect(
      code([
        [
          ['key', 'url.path'],
          ['int', 504],
          ['key', 'http.status_code'],
        ],
      ]),
    ).toBe(504);
    // ... and not when the last one is another key.
    expect(
      code([
        [
          ['key', 'http.status_code'],
          ['int', 504],
          ['key', 'url.path'],
        ],
      ]),
    ).toBe(0);
  });

  it('takes the first attribute that holds a code', () => {
    expect(
      code([
        [
          ['key', 'http.status_code'],
          ['string', 'n/a'],
        ],
        [
          ['key', 'http.response.status_code'],
          ['string', '500'],
        ],
        [
          ['key', 'http.status_code'],
          ['int', 404],
        ],
      ]),
    ).toBe(500);
  });

  it('makes a server span without a status an error when its code is 5xx', () => {
    const five = span([
      [
        ['key', 'http.response.status_code'],
        ['string', '500'],
      ],
    ]);
    const four = span([
      [
        ['key', 'http.response.status_code'],
        ['string', '404'],
      ],
    ]);
    expect(isErrorSpan(five.bytes, five.ref)).toBe(true);
    expect(isErrorSpan(four.bytes, four.ref)).toBe(false);
  });
});
