import { describe, expect, it } from 'vitest';
import { KeyForm } from '../../../src/detectors/anomaly/internal/key-form.js';
import { indexSpans } from '../../../src/otlp/trace-index.js';
import { traceRequest, type SpanSpec } from '../helpers/traces.js';

const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;

function operations(form: KeyForm, spans: Omit<SpanSpec, 'startMs' | 'durationMs'>[]): string[] {
  const bytes = traceRequest(
    spans.map((s) => ({ ...s, startMs: 1_700_000_000_000, durationMs: 5 })),
  );
  return indexSpans(bytes).spans.map((span) => form.operation(bytes, span));
}

describe('key formation (the operation of a span key)', () => {
  it('is the span name when the name is more than an HTTP method', () => {
    const form = new KeyForm();
    expect(
      operations(form, [
        { name: 'GET /cart', attributes: { 'http.route': '/other' } },
        { name: 'SELECT users', kind: CLIENT, attributes: { 'server.address': 'db' } },
        { name: 'get', attributes: { 'http.route': '/x' } }, // not a method name: case counts
      ]),
    ).toEqual(['GET /cart', 'SELECT users', 'get']);
  });

  it.each<[string, number, Record<string, string>, string]>([
    ['GET', SERVER, { 'http.route': '/pay', 'url.path': '/pay/123' }, 'GET /pay'],
    ['POST', SERVER, { 'http.route': '/v1/charges/:id' }, 'POST /v1/charges/:id'],
    ['HTTP GET', SERVER, { 'http.route': '/cart' }, 'GET /cart'], // conventions before 1.21
    ['HTTP', SERVER, { 'http.route': '/x' }, 'HTTP /x'], // an unknown method (`_OTHER`)
    ['_OTHER', SERVER, { 'http.route': '/x' }, 'HTTP /x'],
    ['GET', SERVER, { 'url.path': '/pay/123' }, 'GET'], // no route: the path is never a key
    ['GET', CLIENT, { 'url.template': '/users/{id}', 'server.address': 'api' }, 'GET /users/{id}'],
    [
      'GET',
      CLIENT,
      { 'server.address': 'payments.internal', 'url.full': 'http://x/1' },
      'GET payments.internal',
    ],
    ['HTTP POST', CLIENT, { 'net.peer.name': 'legacy' }, 'POST legacy'], // before 1.21
    ['GET', CLIENT, { 'http.route': '/pay' }, 'GET'], // a route is a server's, not a client's
    ['GET', INTERNAL, { 'http.route': '/pay' }, 'GET'],
    ['GET', SERVER, { 'http.route': '' }, 'GET'],
  ])('names %s (kind %i) with %j as %s', (name, kind, attributes, expected) => {
    expect(operations(new KeyForm(), [{ name, kind, attributes }])).toEqual([expected]);
  });

  it('adds key_attributes in their configured order, whatever their type; absent ones are left out', () => {
    const form = new KeyForm(['rpc.method', 'db.operation.name', 'retry']);
    expect(
      operations(form, [
        { name: 'grpc call', attributes: { 'rpc.method': 'Charge' } },
        { name: 'query', attributes: { retry: 2, 'db.operation.name': 'SELECT' } },
        { name: 'query', attributes: { retry: true } },
        { name: 'plain' },
        { name: 'GET', attributes: { 'http.route': '/pay', 'rpc.method': 'x' } },
      ]),
    ).toEqual([
      'grpc call [rpc.method=Charge]',
      'query [db.operation.name=SELECT, retry=2]',
      'query [retry=true]',
      'plain',
      'GET /pay [rpc.method=x]',
    ]);
  });

  it('returns the same string for the same key, and keeps each part and the whole bounded', () => {
    const form = new KeyForm(['tenant']);
    const long = 'r'.repeat(1 << 20);
    const [a, b, c] = operations(form, [
      { name: 'GET', attributes: { 'http.route': '/a', tenant: 't1' } },
      { name: 'GET', attributes: { 'http.route': '/a', tenant: 't1' } },
      { name: 'GET', attributes: { 'http.route': long, tenant: long } },
    ]);
    expect(a).toBe('GET /a [tenant=t1]');
    expect(b).toBe(a);
    expect(Buffer.byteLength(c!)).toBeLessThanOrEqual(256 + 3);
    expect(c!.startsWith('GET rrr')).toBe(true);
    expect(c!.endsWith('…')).toBe(true);
  });

  it('keeps its cache bounded under names it has never seen', () => {
    const form = new KeyForm();
    for (let i = 0; i < 40_000; i += 500) {
      const spans = Array.from({ length: 500 }, (_, j) => ({
        name: 'GET',
        attributes: { 'http.route': `/r/${i + j}` },
      }));
      const ops = operations(form, spans);
      expect(ops[499]).toBe(`GET /r/${i + 499}`);
    }
  });
});
