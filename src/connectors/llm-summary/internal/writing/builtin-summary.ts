import { headline, involvedServices, type SummaryContext } from './context.js';
import {
  ms,
  rateText,
  readingText,
  severityText,
  spanLabel,
  times,
  verdictBrief,
} from './format.js';
import type { Redactor } from '../redaction/redact.js';

/**
 * The summary written without a model: what was slow, by how much against which baseline, the
 * likely origin and the way to it, other anomalies of the trace and around it, and the metrics of
 * the origin's service as measured. Deterministic: the same context gives the same text.
 */
export function builtinSummary(ctx: SummaryContext, r: Redactor): string {
  const a = ctx.analysis;
  const top = headline(a);
  const an = top.anomaly!;
  const parts: string[] = [];
  const against = an.rate
    ? rateText(an.rate, r)
    : `${times(an.ratio)} its baseline mean of ${ms(an.meanMs)}`;
  parts.push(
    `${spanLabel(top, r, false)} took ${ms(top.span.durationMs)}, ${against} ` +
      `(${r.text(an.window)}, ${severityText(an.severity)}).`,
  );
  const o = a.origin;
  const own = `its own time was ${ms(o.exclusiveMs)} against about ${ms(o.expectedExclusiveMs)} expected (+${ms(o.excessMs)})`;
  if (o === top) {
    // An error burst or a traffic surge says nothing of where time went.
    if (!an.rate) parts.push(`The time was spent in this span itself: ${own}.`);
  } else {
    const path = a.chain
      .slice(0, -1)
      .map((s) => `${r.text(s.span.service)} ${r.text(s.span.name)}`)
      .join(' -> ');
    parts.push(
      `Likely origin: ${spanLabel(o, r, false)}, ${own}${path ? `, called via ${path}` : ''}.`,
    );
  }
  if (a.siblings.length > 0) {
    const list = a.siblings
      .slice(0, 5)
      .map(
        (s) =>
          `${r.text(s.span.service)} ${r.text(s.span.name)} (${s.anomaly!.rate ? verdictBrief(s.anomaly!) : times(s.anomaly!.ratio)}, ${severityText(s.anomaly!.severity)})`,
      );
    parts.push(
      `Also anomalous in this trace: ${list.join(', ')}${a.siblings.length > 5 ? ', ...' : ''}.`,
    );
  }
  if (ctx.concurrent.length > 0) {
    const total = ctx.concurrent.reduce((n, c) => n + c.count, 0);
    const list = ctx.concurrent
      .slice(0, 3)
      .map((c) => `${r.text(c.service)} ${r.text(c.operation)} x${c.count}`);
    parts.push(
      `${total} concurrent ${total === 1 ? 'anomaly' : 'anomalies'} in other traces: ${list.join(', ')}${ctx.concurrent.length > 3 ? ', ...' : ''}.`,
    );
  }
  const service = involvedServices(a)[0]!;
  const readings = ctx.metrics.get(service) ?? [];
  if (readings.length > 0) {
    parts.push(`${r.text(service)} metrics: ${readings.map(readingText).join(', ')}.`);
  }
  return parts.join(' ');
}
