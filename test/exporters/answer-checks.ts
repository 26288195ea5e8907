import { expect } from 'vitest';
import { PermanentError } from '../../src/component/errors.js';
import type { OtlpSink, SinkAnswer } from '../helpers/otlp-sink.js';
import { traceBatch } from './batches.js';
import { ERROR, INFO, WARN, type Made } from './harness.js';

/**
 * The checks the otlp and otlphttp answer tables share, for an exporter made without a queue and
 * with `TEST_RETRY`, so that `consume()` shows the outcome directly.
 */

/** The sink answers `answer` once: the exporter waits exactly `waitMs`, then delivers. */
export async function expectRetriedAfter(
  { exporter, h, clock }: Made,
  sink: OtlpSink,
  answer: SinkAnswer,
  waitMs: number,
): Promise<void> {
  sink.answerNext(1, answer);
  const batch = traceBatch(3);
  const done = exporter.consume(batch);
  await clock.timeoutsSet(1);
  expect(clock.delays).toEqual([waitMs]);
  expect(sink.requests).toHaveLength(1);
  clock.advance(waitMs - 1);
  expect(clock.pendingTimers()).toBe(1);
  clock.advance(1);
  await done;
  expect(sink.requests.map((r) => r.accepted)).toEqual([false, true]);
  expect(sink.accepted()[0]!.bytes).toEqual(Buffer.from(batch.bytes));
  expect(await h.metric('otelcol_exporter_sent_spans_total')).toBe(3);
  expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(0);
}

/** The sink answers `answer` twice: both batches are dropped at once, counted, logged once. */
export async function expectDroppedPermanently(
  { exporter, h, clock }: Made,
  sink: OtlpSink,
  answer: SinkAnswer,
  messageText: string,
): Promise<void> {
  sink.answerNext(2, answer);
  for (let i = 0; i < 2; i++) {
    const err = await exporter.consume(traceBatch(2)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toContain(messageText);
  }
  expect(sink.requests).toHaveLength(2);
  expect(clock.delays).toEqual([]);
  expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(4);
  expect(await h.metric('otelcol_exporter_sent_spans_total')).toBe(0);
  const logs = h.logged('rejected them permanently');
  expect(logs).toHaveLength(1);
  expect(logs[0]!.level).toBe(ERROR);
}

/** The sink is down, then back: one warning naming `endpoint`, one recovery line, all delivered. */
export async function expectRecoveryFromRefused(
  { exporter, h, clock }: Made,
  sink: OtlpSink,
  endpoint: string,
): Promise<void> {
  await sink.stop();
  const first = exporter.consume(traceBatch(1));
  const second = exporter.consume(traceBatch(1));
  await clock.timeoutsSet(2);
  const warnings = h.logged('cannot export to');
  expect(warnings).toHaveLength(1);
  expect(warnings[0]!.level).toBe(WARN);
  expect(warnings[0]!.msg).toContain(endpoint);
  expect(warnings[0]!.msg).toContain('ECONNREFUSED');
  await sink.restart();
  clock.advance(1000);
  await Promise.all([first, second]);
  expect(sink.items()).toBe(2);
  const recovered = h.logged('recovered after 2 failed attempts');
  expect(recovered).toHaveLength(1);
  expect(recovered[0]!.level).toBe(INFO);
  expect(h.logged('cannot export to')).toHaveLength(1);
}

/** The sink answers with a partial success twice: sent and rejected counted, logged once. */
export async function expectPartialSuccessCounted({ exporter, h }: Made, sink: OtlpSink) {
  sink.answerNext(2, { partialSuccess: { rejected: 2, message: 'spans too old' } });
  await exporter.consume(traceBatch(5));
  await exporter.consume(traceBatch(5));
  expect(await h.metric('otelcol_exporter_sent_spans_total')).toBe(6);
  expect(await h.metric('otelcol_exporter_send_failed_spans_total')).toBe(4);
  const logs = h.logged('rejected 2 of its 5 spans: spans too old');
  expect(logs).toHaveLength(1);
  expect(logs[0]!.level).toBe(WARN);
}

/**
 * The exporter was made with `timeout: 1000h`, past what a Node timer waits (2^31-1 ms), which
 * fires such a timer after 1 ms: a 50 ms answer is taken at once, not cut and retried.
 */
export async function expectFarTimeoutWaited({ exporter, clock }: Made, sink: OtlpSink) {
  sink.answerNext(1, { delayMs: 50 });
  const retried = clock.timeoutsSet(1).then(() => 'retried');
  const sent = exporter.consume(traceBatch(1)).then(() => 'sent');
  expect(await Promise.race([sent, retried])).toBe('sent');
  expect(clock.delays).toEqual([]);
  expect(sink.requests).toHaveLength(1);
}
