import { describe, expect, it } from 'vitest';
import { builtinSummary } from '../../../src/connectors/llm-summary/internal/writing/builtin-summary.js';
import type { SummaryContext } from '../../../src/connectors/llm-summary/internal/writing/context.js';
import { MetricsWindow } from '../../../src/connectors/llm-summary/internal/metrics/metrics-window.js';
import { analyseTrace } from '../../../src/analysis/origin.js';
import {
  buildPrompt,
  SYSTEM_PROMPT,
} from '../../../src/connectors/llm-summary/internal/writing/prompt.js';
import {
  DEFAULT_ALLOW,
  DEFAULT_DENY,
  Redactor,
} from '../../../src/connectors/llm-summary/internal/redaction/redact.js';
import { decodeSpan } from '../../../src/otlp/span-decode.js';
import { indexSpans } from '../../../src/otlp/trace-index.js';
import { metricsRequest } from './metric-data.js';
import { checkoutTrace, encodeTrace, T0, type TestSpan } from './trace-data.js';

const redactor = new Redactor({
  allow_attributes: DEFAULT_ALLOW,
  deny_attributes: DEFAULT_DENY,
  mask_values: true,
});

function context(spans: TestSpan[], concurrent: SummaryContext['concurrent'] = []): SummaryContext {
  const bytes = encodeTrace(spans);
  const index = indexSpans(bytes);
  const decoded = index.spans.map((s) =>
    decodeSpan(bytes.subarray(s.start, s.end), index.resources[s.resource]!.serviceName),
  );
  const w = new MetricsWindow({ windowMs: 300_000, maxServices: 10, maxSamples: 10 });
  w.ingest(
    metricsRequest('payments', [
      {
        type: 'gauge',
        name: 'process.cpu.utilization',
        points: [
          { atMs: T0 - 60_000, value: 0.003 },
          { atMs: T0, value: 0.001 },
        ],
      },
      { type: 'gauge', name: 'process.memory.usage', points: [{ atMs: T0, value: 117_850_000 }] },
    ]),
    T0,
  );
  return {
    analysis: analyseTrace(decoded)!,
    metrics: new Map([['payments', w.read('payments', T0 + 1000)]]),
    concurrent,
    metricsWindowMs: 300_000,
    concurrentWindowMs: 60_000,
  };
}

describe('prompt and built-in summary', () => {
  const slow = checkoutTrace(1, 500, { frontend: 1, client: 1, payments: 1 });
  const concurrent = [{ service: 'payments', operation: 'POST /charge', severity: 1, count: 3 }];

  it('the prompt states the anomaly, its baseline, the origin, the chain and the metrics as measured', () => {
    const p = buildPrompt(context(slow, concurrent), redactor);
    expect(p.system).toBe(SYSTEM_PROMPT);
    expect(p.system).toContain('Do not call CPU, memory or any other resource high');
    expect(p.user.split('\n')).toEqual([
      'Latency anomaly SEV1 (critical) in trace 00000000000000000000000000000001.',
      'Slow span: frontend "GET /checkout" (server) took 580.0 ms; baseline (Mon 09:00-10:00 UTC): mean 80.0 ms, stddev 8.00 ms, p99 98.6 ms, 240 samples; 7.3x the mean, 62.5 standard deviations above it.',
      '',
      'Likely origin: payments "POST /charge" (server): its own time (without its children) was 520.0 ms where about 20.0 ms was expected (+500.0 ms, 100.0 standard deviations); in all it took 550.0 ms against a mean of 50.0 ms (SEV1).',
      'Call chain from the top of the trace down to the origin:',
      '1. frontend "GET /checkout" (server) 580.0 ms, SEV1, 7.3x its mean of 80.0 ms',
      '2. frontend "POST /charge" (client) 560.0 ms, SEV1, 9.3x its mean of 60.0 ms',
      '3. payments "POST /charge" (server) 550.0 ms, SEV1, 11.0x its mean of 50.0 ms  <- origin',
      'Other anomalous spans in this trace: none.',
      'Attributes of the origin span: http.route=/charge.',
      'Anomalies in other traces within 60 s: payments "POST /charge" SEV1 x3.',
      '',
      'Metrics of the services involved (over the 5 min before; the value at the time, then the range):',
      '- payments: CPU 0.1% (min 0.1%, max 0.3%); memory 112.4 MiB.',
      '- frontend: no metrics received.',
      '',
      'Write the summary now.',
    ]);
  });

  it('the built-in summary says what was slow, against which baseline, where, and the metrics', () => {
    expect(builtinSummary(context(slow, concurrent), redactor)).toBe(
      'frontend GET /checkout (server) took 580.0 ms, 7.3x its baseline mean of 80.0 ms (Mon 09:00-10:00 UTC, SEV1). ' +
        'Likely origin: payments POST /charge (server), its own time was 520.0 ms against about 20.0 ms expected (+500.0 ms), ' +
        'called via frontend GET /checkout -> frontend POST /charge. ' +
        '3 concurrent anomalies in other traces: payments POST /charge x3. ' +
        'payments metrics: CPU 0.1% (min 0.1%, max 0.3%), memory 112.4 MiB.',
    );
  });

  it('a span slow on its own is its own origin; an error status is stated', () => {
    const [, , pay] = checkoutTrace(2, 500, { payments: 2 });
    const alone = {
      ...pay!,
      parentSpanId: undefined,
      status: { code: 2, message: 'gateway timeout' },
    };
    const ctx = context([alone]);
    expect(builtinSummary(ctx, redactor)).toMatch(
      /^payments POST \/charge \(server\) took 550\.0 ms, 11\.0x its baseline mean of 50\.0 ms \(Mon 09:00-10:00 UTC, SEV2\)\. The time was spent in this span itself: its own time was 550\.0 ms against about 50\.0 ms expected \(\+500\.0 ms\)\./,
    );
    const p = buildPrompt(ctx, redactor).user;
    expect(p).toContain('Likely origin: the slow span itself:');
    expect(p).toContain('The origin span ended with status ERROR: "gateway timeout".');
  });

  it('tells an error burst or a traffic surge by its own numbers, not by a duration it does not have', () => {
    // Was: "took 50.0 ms, n/a its baseline mean of n/a ... The time was spent in this span itself".
    const verdict = (detector: 'errors' | 'traffic', numbers: Record<string, number | string>) => ({
      'anomaly.severity': 'SEV3',
      'anomaly.severity_number': 3,
      'anomaly.severity_label': 'moderate',
      'anomaly.detector': detector,
      'anomaly.reason': detector === 'errors' ? 'error_burst' : 'traffic_surge',
      'anomaly.score': 6.5,
      'anomaly.baseline.scope': 'dow_hour',
      'anomaly.baseline.window': 'Mon 09:00-10:00 UTC',
      ...numbers,
    });
    const errors = verdict('errors', {
      'anomaly.errors.rate': 0.31,
      'anomaly.errors.baseline_rate': 0.009,
      'anomaly.errors.type': 'CardDeclined',
    });
    const traffic = verdict('traffic', {
      'anomaly.traffic.rate': 610,
      'anomaly.traffic.baseline_rate': 118,
      'anomaly.traffic.ratio': 5.17,
    });
    const withVerdict = (
      spans: TestSpan[],
      attributes: Record<string, number | string>,
      name = 'POST /charge',
    ) =>
      spans.map((s) =>
        s.service === 'payments' && s.name === name
          ? { ...s, status: { code: 2 }, attributes: { ...s.attributes, ...attributes } }
          : s,
      );
    const burst = context(withVerdict(checkoutTrace(5, 0), errors));
    expect(builtinSummary(burst, redactor)).toBe(
      "payments POST /charge (server) took 50.0 ms, errors in 31% of its operation's recent spans, usually 0.9%; most often CardDeclined (Mon 09:00-10:00 UTC, SEV3). " +
        'payments metrics: CPU 0.1% (min 0.1%, max 0.3%), memory 112.4 MiB.',
    );
    expect(buildPrompt(burst, redactor).user.split('\n').slice(0, 4)).toEqual([
      'Error anomaly SEV3 (moderate) in trace 00000000000000000000000000000005.',
      `Tagged span: payments "POST /charge" (server) took 50.0 ms; errors in 31% of its operation's recent spans, usually 0.9%; most often CardDeclined (Mon 09:00-10:00 UTC).`,
      '',
      'Likely origin: the tagged span itself: its own time (without its children) was 20.0 ms where about 20.0 ms was expected (+0.00 ms); in all it took 50.0 ms, tagged for errors 31%, usually 0.9% (SEV3).',
    ]);
    const surge = buildPrompt(context(withVerdict(checkoutTrace(6, 0), traffic)), redactor).user;
    expect(surge.split('\n').slice(0, 2)).toEqual([
      'Traffic anomaly SEV3 (moderate) in trace 00000000000000000000000000000006.',
      'Tagged span: payments "POST /charge" (server) took 50.0 ms; 610 spans of its operation in the last minute, usually 118 a minute (Mon 09:00-10:00 UTC).',
    ]);
    // Beside a slowdown, a burst of the database calls neither hides the slow origin nor reads as a
    // duration.
    const slowdown = checkoutTrace(7, 500, { frontend: 1, client: 1, payments: 1 });
    const both = context(withVerdict(slowdown, errors, 'SELECT payments'));
    const text = builtinSummary(both, redactor);
    expect(text).toMatch(
      /^frontend GET \/checkout \(server\) took 580\.0 ms, 7\.3x its baseline mean of 80\.0 ms/,
    );
    expect(text).toContain(
      'Likely origin: payments POST /charge (server), its own time was 520.0 ms against about 20.0 ms expected (+500.0 ms)',
    );
    expect(text).toContain(
      'Also anomalous in this trace: payments SELECT payments (errors 31%, usually 0.9%, SEV3).',
    );
    expect([text, buildPrompt(both, redactor).user].join('\n')).not.toContain('n/a');
  });

  it('never puts secrets or personal data in the prompt or the summary', () => {
    const secrets = {
      'http.request.header.authorization': 'Bearer abcdefabcdef0123',
      'auth.token': 'tok_live_51HxYzAbCdEf',
      'user.email': 'bob@example.com',
      'payment.card.number': '4111111111111111',
      'client.address': '203.0.113.9',
      'url.path': '/reset?token=abcdef123456',
      'db.statement': "SELECT * FROM users WHERE email='carol@example.com'",
    };
    const spans = checkoutTrace(3, 500, { frontend: 1, client: 1, payments: 1 }).map((s) =>
      s.service === 'payments' && s.name === 'POST /charge'
        ? {
            ...s,
            name: 'POST /charge/dave@example.com',
            attributes: { ...s.attributes, ...secrets },
            status: { code: 2, message: 'card 4111 1111 1111 1111 declined for eve@example.com' },
          }
        : s,
    );
    const ctx = context(spans);
    const everything = [
      buildPrompt(ctx, redactor).user,
      builtinSummary(ctx, redactor),
      buildPrompt(
        ctx,
        new Redactor({ allow_attributes: ['*'], deny_attributes: DEFAULT_DENY, mask_values: true }),
      ).user,
    ].join('\n');
    for (const needle of [
      'abcdefabcdef0123',
      'tok_live',
      'bob@',
      'carol@',
      'dave@',
      'eve@',
      '4111',
      '203.0.113.9',
      'abcdef123456',
      'SELECT',
    ]) {
      expect(everything).not.toContain(needle);
    }
    expect(everything).toContain('POST /charge/[email]');
    expect(everything).toContain('url.path=/reset?token=[redacted]');
    expect(everything).toContain('(6 withheld)'); // the six denied keys, whatever is allowed
  });
});
