import type { ItemReplacement } from '../../../../otlp/rewrite.js';
import type { SpanRef } from '../../../../otlp/trace-index.js';
import { maskSecrets } from '../../../../telemetry/mask-secrets.js';
import { spanRecord, type AnomalyRecord } from '../anomaly-record.js';
import { incidentAttribute } from '../../incidents/incident-attribute.js';
import type { TaggedSpan } from '../../incidents/trace-groups.js';
import { tagEdit } from '../carried-attributes.js';
import type { KeyState } from '../key-state.js';
import { scopeOfSlot } from '../slots.js';
import type { AttributeEncoder } from '../tagger.js';
import { rateAttributes } from './rate-attributes.js';
import type { RateVerdict } from './rate-detector.js';
import { topType } from './rate-state.js';

/**
 * The tags of one batch, from every detector: a span judged by several carries the verdict of the
 * most severe (severity, `anomaly.detector`, `anomaly.reason`; latency wins a tie) and the numbers
 * of each (`anomaly.baseline.*`, `anomaly.errors.*`, `anomaly.traffic.*`). One record per span in
 * the history, the winner's, with the others' numbers.
 */
export class BatchTags {
  private latency: Map<number, [AnomalyRecord, number]> | undefined;
  private readonly tagged: (TaggedSpan & { attributes: Uint8Array })[] = [];

  constructor(
    private readonly bytes: Uint8Array,
    private readonly spans: readonly SpanRef[],
    private readonly keys: readonly (KeyState | undefined)[],
    private readonly encoder: AttributeEncoder,
    private readonly windows: readonly string[],
    private readonly now: number,
  ) {}

  /** The latency detector tagged span `i` (`slot`: the baseline it was judged against). */
  latencyTag(i: number, record: AnomalyRecord, slot: number): void {
    (this.latency ??= new Map()).set(i, [record, slot]);
  }

  /**
   * Every tag: the records into `anomalies`, the edits of the request (undefined: none).
   * `carried`: per span, 1 when it arrived carrying `anomaly.*` attributes (replaced, not added
   * to). `incidents` names each tagged span's incident (`anomaly.incident_id`), given them all.
   */
  finish(
    carried: Uint8Array | undefined,
    verdicts: readonly RateVerdict[],
    anomalies: AnomalyRecord[],
    incidents?: (tagged: readonly TaggedSpan[]) => (string | undefined)[],
  ): Map<number, Uint8Array | ItemReplacement> | undefined {
    if (this.latency === undefined && verdicts.length === 0) return undefined;
    const edits = new Map<number, Uint8Array | ItemReplacement>();
    const rated = new Map<number, RateVerdict>();
    for (const v of verdicts) rated.set(v.index, v);
    for (const [i, [record, slot]] of this.latency ?? []) {
      const v = rated.get(i);
      if (v === undefined) {
        this.tag(i, this.encoder.encode(record, slot), record, anomalies);
        continue;
      }
      rated.delete(i);
      const rate = this.rateRecord(v);
      if (record.severity <= rate.severity) {
        const merged = { ...record, ...rateNumbers(rate) };
        const attrs = concat(this.encoder.encode(record, slot), rateAttributes(rate, false));
        this.tag(i, attrs, merged, anomalies);
      } else {
        const merged = {
          ...rate,
          meanMs: record.meanMs,
          stddevMs: record.stddevMs,
          p99Ms: record.p99Ms,
          operationRatio: record.operationRatio,
        };
        const attrs = concat(rateAttributes(rate, true), this.encoder.encode(record, slot, true));
        this.tag(i, attrs, merged, anomalies);
      }
    }
    for (const [i, v] of rated) {
      const rate = this.rateRecord(v);
      this.tag(i, rateAttributes(rate, true), rate, anomalies);
    }
    const ids = incidents?.(this.tagged);
    // `anomaly.incident_id` of each incident, encoded once: a request's tagged spans share a few.
    const incidentAttributes = new Map<string, Uint8Array>();
    for (let k = 0; k < this.tagged.length; k++) {
      const { span: i, attributes } = this.tagged[k]!;
      const id = ids?.[k];
      const span = this.spans[i]!;
      let attrs = attributes;
      if (id !== undefined) {
        let incident = incidentAttributes.get(id);
        if (incident === undefined) incidentAttributes.set(id, (incident = incidentAttribute(id)));
        attrs = concat(attributes, incident);
      }
      edits.set(span.start, tagEdit(this.bytes, span, carried?.[i] === 1, attrs));
    }
    return edits;
  }

  /** Records a tag; its edit is made in `finish`, once the incidents are known. */
  private tag(
    i: number,
    attributes: Uint8Array,
    record: AnomalyRecord,
    anomalies: AnomalyRecord[],
  ): void {
    anomalies.push(record);
    this.tagged.push({ span: i, record, attributes });
  }

  private rateRecord(v: RateVerdict): AnomalyRecord {
    const span = this.spans[v.index]!;
    const key = this.keys[v.index]!;
    const errors = v.detector === 'errors';
    const type = errors ? topType(key.rates!) : undefined;
    const record = spanRecord(this.bytes, span, key, {
      severity: v.severity,
      detector: v.detector,
      reason: errors ? 'error_burst' : 'traffic_surge',
      operationRatio: Number.NaN,
      score: v.score,
      ratio: v.baseline > 0 ? v.rate / v.baseline : Number.POSITIVE_INFINITY,
      meanMs: 0,
      stddevMs: 0,
      p99Ms: 0,
      samples: v.samples,
      scope: scopeOfSlot(v.slot),
      window: this.windows[v.slot]!,
      recordedAt: this.now,
      summary: null,
    });
    return errors
      ? Object.assign(record, {
          errorRate: v.rate,
          baselineErrorRate: v.baseline,
          errorType: type === undefined ? undefined : maskSecrets(type),
        })
      : Object.assign(record, { observedRate: v.rate, expectedRate: v.baseline });
  }
}

/** A rate record's own numbers, kept on a record another detector won. */
function rateNumbers(r: AnomalyRecord): Partial<AnomalyRecord> {
  return r.detector === 'errors'
    ? { errorRate: r.errorRate, baselineErrorRate: r.baselineErrorRate, errorType: r.errorType }
    : { observedRate: r.observedRate, expectedRate: r.expectedRate };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
