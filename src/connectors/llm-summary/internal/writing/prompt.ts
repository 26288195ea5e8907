import { headline, involvedServices, type SummaryContext } from './context.js';
import {
  kindName,
  ms,
  rateText,
  readingText,
  severityLabel,
  severityText,
  sigmas,
  spanLabel,
  times,
  verdictBrief,
} from './format.js';
import type { AnalysedSpan } from '../../../../analysis/origin.js';
import type { Prompt } from '../providers/index.js';
import type { Redactor } from '../redaction/redact.js';

/**
 * The instructions. The design sessions caught a small model calling CPU "high" at 0.1% once
 * metrics were in the prompt: the values are stated as measured, and the model is told to quote
 * them and not to judge a resource without a value that shows it.
 */
export const SYSTEM_PROMPT = [
  'You are an SRE assistant inside an OpenTelemetry pipeline. In 2 to 4 plain sentences, tell an',
  'on-call engineer why this trace was slow and where to look first. Use only the data given.',
  'Quote durations and metric values exactly as given. Do not call CPU, memory or any other',
  'resource high, saturated or exhausted unless its value shows it; a low value rules it out.',
  'If the data does not explain the slowdown, say so. Do not invent services, causes or numbers.',
].join(' ');

/** The user message: the anomaly, its baseline, the trace context and the metrics. */
export function buildPrompt(ctx: SummaryContext, r: Redactor): Prompt {
  const a = ctx.analysis;
  const top = headline(a);
  const lines: string[] = [];
  const an = top.anomaly!;
  const kind = an.rate?.detector === 'errors' ? 'Error' : an.rate ? 'Traffic' : 'Latency';
  lines.push(
    `${kind} anomaly ${severityText(an.severity)} (${severityLabel(an.severity)}) in trace ${a.traceId}.`,
    an.rate
      ? `Tagged span: ${spanLabel(top, r)} took ${ms(top.span.durationMs)}; ${rateText(an.rate, r)} (${r.text(an.window)}).`
      : `Slow span: ${spanLabel(top, r)} took ${ms(top.span.durationMs)}; baseline (${r.text(an.window)}): ` +
          `mean ${ms(an.meanMs)}, stddev ${ms(an.stddevMs)}, p99 ${ms(an.p99Ms)}, ${an.samples} samples; ` +
          `${times(an.ratio)} the mean, ${sigmas(an.score)} standard deviations above it.`,
    '',
    originLine(a.origin, top, r),
    'Call chain from the top of the trace down to the origin:',
    ...a.chain.map((s, i) => `${i + 1}. ${chainEntry(s, r)}${s === a.origin ? '  <- origin' : ''}`),
    `Other anomalous spans in this trace: ${
      a.siblings.length === 0 ? 'none' : a.siblings.map((s) => chainEntry(s, r)).join('; ')
    }.`,
  );
  const { kept, withheld } = r.attributes(a.origin.span.attributes);
  const attrs = kept.map(([k, v]) => `${k}=${String(v)}`).join(', ') || 'none';
  lines.push(
    `Attributes of the origin span: ${attrs}${withheld > 0 ? ` (${withheld} withheld)` : ''}.`,
  );
  if (a.origin.span.statusCode === 2) {
    const message = r.text(a.origin.span.statusMessage);
    lines.push(`The origin span ended with status ERROR${message ? `: "${message}"` : ''}.`);
  }
  const seconds = Math.round(ctx.concurrentWindowMs / 1000);
  lines.push(
    `Anomalies in other traces within ${seconds} s: ${
      ctx.concurrent.length === 0
        ? 'none'
        : ctx.concurrent
            .map(
              (c) =>
                `${r.text(c.service)} "${r.text(c.operation)}" ${severityText(c.severity)} x${c.count}`,
            )
            .join('; ')
    }.`,
    '',
    `Metrics of the services involved (over the ${Math.round(ctx.metricsWindowMs / 60_000)} min before; the value at the time, then the range):`,
  );
  for (const service of involvedServices(a)) {
    const readings = ctx.metrics.get(service) ?? [];
    lines.push(
      `- ${r.text(service)}: ${readings.length === 0 ? 'no metrics received' : readings.map(readingText).join('; ')}.`,
    );
  }
  lines.push('', 'Write the summary now.');
  return { system: SYSTEM_PROMPT, user: lines.join('\n') };
}

function chainEntry(s: AnalysedSpan, r: Redactor): string {
  const base = `${spanLabel(s, r)} ${ms(s.span.durationMs)}`;
  if (!s.anomaly) return `${base}, not anomalous`;
  const operation =
    s.anomaly.reason === 'slow_operation' && Number.isFinite(s.anomaly.operationRatio)
      ? ` (tagged because its operation's recent spans are ${times(s.anomaly.operationRatio)} their normal)`
      : '';
  return `${base}, ${severityText(s.anomaly.severity)}, ${verdictBrief(s.anomaly)}${operation}`;
}

function originLine(o: AnalysedSpan, top: AnalysedSpan, r: Redactor): string {
  const own =
    `its own time (without its children) was ${ms(o.exclusiveMs)} where about ` +
    `${ms(o.expectedExclusiveMs)} was expected (+${ms(o.excessMs)}` +
    `${o.anomaly && !o.anomaly.rate ? `, ${sigmas(o.sigma)} standard deviations` : ''})`;
  const total = o.anomaly
    ? `; in all it took ${ms(o.span.durationMs)}${o.anomaly.rate ? `, tagged for ${verdictBrief(o.anomaly)}` : ` against a mean of ${ms(o.anomaly.meanMs)}`} (${severityText(o.anomaly.severity)})`
    : `; it was not tagged itself (${kindName(o.span.kind)} span without a baseline)`;
  const who =
    o !== top
      ? spanLabel(o, r)
      : o.anomaly?.rate
        ? 'the tagged span itself'
        : 'the slow span itself';
  return `Likely origin: ${who}: ${own}${total}.`;
}
