import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALLOW,
  DEFAULT_DENY,
  Redactor,
} from '../../../src/connectors/llm-summary/internal/redaction/redact.js';

const defaults = new Redactor({
  allow_attributes: DEFAULT_ALLOW,
  deny_attributes: DEFAULT_DENY,
  mask_values: true,
});
const allowAll = new Redactor({
  allow_attributes: ['*'],
  deny_attributes: DEFAULT_DENY,
  mask_values: true,
});

describe('redaction', () => {
  it.each([
    ['Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl', 'Bearer [jwt]'],
    ['fe80::1ff:fe23:4567:890a%eth0', '[ip]%eth0'],
    ['at 09:03:12 UTC', 'at 09:03:12 UTC'],
    ['Authorization: Bearer 9f8e7d6c5b4a39281716', 'Authorization: Bearer [redacted]'],
    ['Basic dXNlcjpwYXNzd29yZA==', 'Basic [redacted]'],
    ['/reset?token=abcdef123456&lang=en', '/reset?token=[redacted]&lang=en'],
    ['/cb?code=XYZ123&state=1', '/cb?code=[redacted]&state=1'],
    ['key sk-proj-AbCdEf0123456789AbCdEf', 'key [secret]'],
    ['AKIAIOSFODNN7EXAMPLE', '[secret]'],
    ['mail alice.smith+shop@example.co.uk now', 'mail [email] now'],
    ['paid with 4111 1111 1111 1111', 'paid with [card]'],
    ['card 4111-1111-1111-1111 declined', 'card [card] declined'],
    [
      'order 1234567890123 (not a card: Luhn fails)',
      'order 1234567890123 (not a card: Luhn fails)',
    ],
    ['call +49 30 1234 5678', 'call [phone]'],
    ['from 10.0.7.21:8080', 'from [ip]:8080'],
    ['from 2001:db8:85a3::8a2e:370:7334', 'from [ip]'],
    ['sha 9b74c9897bac770ffc029102a200c5de', 'sha [redacted]'],
    ['GET /api/cart 200', 'GET /api/cart 200'],
    ['Mon 09:00-10:00 UTC', 'Mon 09:00-10:00 UTC'],
  ])('masks %j', (input, output) => {
    expect(defaults.text(input)).toBe(output);
  });

  it('cuts long values', () => {
    expect(defaults.text('a '.repeat(500))).toHaveLength(203);
  });

  it('passes only allowed keys, never denied ones, and leaves anomaly.* to the prompt', () => {
    const attrs = new Map<string, string | number | boolean>([
      ['http.route', '/charge'],
      ['http.request.header.authorization', 'Bearer abcdefabcdef'],
      ['auth.token', 's3cr3t-value'],
      ['user.email', 'bob@example.com'],
      ['card.number', '4111111111111111'],
      ['client.address', '10.0.7.21'],
      ['url.full', 'https://shop/reset?token=abc'],
      ['cart.items', 3],
      ['note', 'for alice@example.com'],
      ['anomaly.severity', 'SEV1'],
    ]);
    const d = defaults.attributes(attrs);
    expect(d.kept).toEqual([['http.route', '/charge']]);
    expect(d.withheld).toBe(8);
    const all = allowAll.attributes(attrs);
    expect(all.kept).toEqual([
      ['http.route', '/charge'],
      ['cart.items', 3],
      ['note', 'for [email]'],
    ]);
    expect(all.withheld).toBe(6);
  });

  it('masking can be turned off, the lists cannot be bypassed by case', () => {
    const plain = new Redactor({
      allow_attributes: ['*'],
      deny_attributes: ['*Token*'],
      mask_values: false,
    });
    expect(plain.text('alice@example.com')).toBe('alice@example.com');
    expect(plain.allowsKey('AUTH.TOKEN')).toBe(false);
    expect(
      new Redactor({ allow_attributes: [], deny_attributes: [], mask_values: true }).allowsKey(
        'http.route',
      ),
    ).toBe(false);
  });
});
