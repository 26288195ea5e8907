import { describe, expect, it } from 'vitest';
import {
  httpStatusCode,
  isErrorSpan,
} from '../../../src/detectors/anomaly/internal/rates/error-detail.js';
import { indexFromLayout, indexSpans, type SpanRef } from '../../../src/otlp/trace-index.js';
import { validateRequest } from '../../../src/otlp/validate.js';
import { ProtoWriter, WIRE_LEN, WIRE_VARINT } from '../../../src/otlp/wire.js';

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

/**
 * A request of one server span without a status whose attributes are KeyValues of these fields,
 * in this order, and the span as each of the two indexes sees it: the scan (`indexSpans`) and
 * the receiver's layout (`indexFromLayout`), which note where its code may be.
 */
function span(attributes: readonly (readonly Field[])[]): {
  bytes: Uint8Array;
  refs: Record<'scan' | 'layout', SpanRef>;
} {
  const w = new ProtoWriter();
  w.fork().fork().fork(); // ResourceSpans, ScopeSpans, Span
  w.tag(1, WIRE_LEN).bytes(new Uint8Array(16).fill(1));
  w.tag(2, WIRE_LEN).bytes(new Uint8Array(8).fill(2));
  w.tag(5, WIRE_LEN).string('GET /cart').tag(6, WIRE_VARINT).varint(2);
  for (const a of attributes) keyValue(w, a);
  w.join(2).join(2).join(1);
  const bytes = w.finish();
  const layout = validateRequest('traces', bytes, { layout: true }).layout!;
  return {
    bytes,
    refs: { scan: indexSpans(bytes).spans[0]!, layout: indexFromLayout(layout).spans[0]! },
  };
}

/** The code read from the span as the scan and as the layout index it (the same). */
const code = (attributes: readonly (readonly Field[])[]) => {
  const { bytes, refs } = span(attributes);
  const scanned = httpStatusCode(bytes, refs.scan);
  expect(httpStatusCode(bytes, refs.layout)).toBe(scanned);
  return scanned;
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
          ['key', 'http.response.status_text'],
          ['int', 503],
        ],
      ]),
    ).toBe(0);
  });

  it('compares every four-byte word of the status code keys, and the last byte', () => {
    for (const key of ['http.response.status_code', 'http.status_code']) {
      expect(
        code([
          [
            ['key', key],
            ['string', '503'],
          ],
        ]),
      ).toBe(503);
      // Bytes 0, 4, 8, ... changed: one in each word, and byte 24 of the 25-byte key.
      for (let i = 0; i < key.length; i += 4) {
        const other = `${key.slice(0, i)}X${key.slice(i + 1)}`;
        expect(
          code([
            [
              ['key', other],
              ['string', '503'],
            ],
          ]),
          other,
        ).toBe(0);
      }
    }
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

  it('reads a value of one byte, of two, of more, and a string of more than three digits', () => {
    const key: Field = ['key', 'http.status_code'];
    expect(code([[key, ['int', 7]]])).toBe(7);
    expect(code([[key, ['int', 503]]])).toBe(503);
    expect(code([[key, ['int', 100_000]]])).toBe(100_000);
    // Not a code: the next attribute's is taken.
    expect(
      code([
        [key, ['string', '5000']],
        [key, ['string', '502']],
      ]),
    ).toBe(502);
    expect(
      code([
        [key, ['string', '']],
        [key, ['int', 501]],
      ]),
    ).toBe(501);
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
    for (const index of ['scan', 'layout'] as const) {
      expect(isErrorSpan(five.bytes, five.refs[index])).toBe(true);
      expect(isErrorSpan(four.bytes, four.refs[index])).toBe(false);
    }
  });

  it('starts at the first attribute that may be a code, noted by the scan and the layout', () => {
    const other: Field[] = [
      ['key', 'http.request.method'],
      ['string', 'GET'],
    ];
    const status: Field[] = [
      ['key', 'http.response.status_code'],
      ['int', 503],
    ];
    const { bytes, refs } = span([other, status, other]);
    const none = span([other, other]);
    for (const index of ['scan', 'layout'] as const) {
      const ref = refs[index];
      // The KeyValue of the status code: its key is the 25 bytes after a tag and a length.
      expect(
        new TextDecoder().decode(bytes.subarray(ref.codeAttrAt + 2, ref.codeAttrAt + 27)),
      ).toBe('http.response.status_code');
      expect(ref.codeAttrEnd).toBeGreaterThan(ref.codeAttrAt);
      expect(none.refs[index].codeAttrAt).toBe(-1);
      expect(httpStatusCode(none.bytes, none.refs[index])).toBe(0);
    }
  });
});
