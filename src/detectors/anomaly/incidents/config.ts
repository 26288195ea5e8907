import { z } from 'zod';
import { duration } from '../../../config/schema.js';
import { severitySetting } from '../internal/severity.js';

/**
 * `processors.anomaly.incidents`: one incident per fault, opened from the spans the processor
 * tags (README.md documents each setting with its default).
 */
const incidentFields = z.strictObject({
  enabled: z.boolean().default(true),
  /** An incident resolves once none of its spans was tagged for this long. */
  quiet_period: duration(5 * 60_000).refine((ms) => ms >= 1_000, {
    message: 'must be at least 1s',
  }),
  /**
   * A SEV3 slowdown of an operation's level (`slow_operation` SEV3) opens an incident only once
   * the operation has been tagged SEV3 or worse for this long, no two tags further apart; SEV1
   * and SEV2 are not held (they wait for a second trace instead: `sev1_confirm_within`,
   * `sev2_confirm_within`). `0s` opens at once.
   */
  open_after: duration(60_000),
  /**
   * A SEV1 span opens an incident once a second trace confirms it: a span of the same operation
   * tagged SEV3 or worse in another trace within this long (the first trace joins it then; its
   * span keeps its SEV1 tag either way). `0s`: any SEV1 span opens one at once (issue 13's
   * literal rule).
   */
  sev1_confirm_within: duration(60_000),
  /**
   * A slow operation's SEV2 (`slow_operation` SEV2) of one trace opens an incident once a second
   * trace confirms it, as a SEV1 span does: a span of the same operation tagged SEV3 or worse in
   * another trace within this long (the first trace joins it then). `0s`: at once.
   */
  sev2_confirm_within: duration(5 * 60_000),
  /**
   * Hysteresis: an incident that has lasted long needs a longer quiet before it resolves. Its quiet
   * period is `quiet_growth` times how long it has lasted (its opening to the last SEV3-or-worse
   * tag of its origin's operation, counted from that tag), never less than `quiet_period`, never
   * more than `max_quiet_period`. `0`: always `quiet_period`.
   */
  quiet_growth: z.number().min(0).max(10).default(0.5),
  /**
   * Only spans tagged this severity or worse keep an incident open (count against its quiet
   * period); milder ones join it (and carry its id) without.
   */
  keep_open_severity: severitySetting('SEV5'),
  /**
   * ...and, of operations other than its origin's, only this severe or worse: a busy caller's
   * SEV4-5 tags, at their nominal rates, do not keep it open.
   */
  keep_open_elsewhere: severitySetting('SEV5'),
  /**
   * A trace blames its origin (ms of own time lost) for the incident's origin only when that span
   * is tagged this severe or worse; a milder origin joins with a token weight.
   */
  blame_severity: severitySetting('SEV5'),
  /**
   * The origin is where the fault started: only the traces of an incident's first this long, and
   * of this long after each time it gets worse, blame its origin; later ones join with a token
   * weight. `0s`: every trace blames.
   */
  origin_window: duration(0),
  /** The longest a grown quiet period (`quiet_growth`) gets. */
  max_quiet_period: duration(60 * 60_000),
  /**
   * An incident whose quiet period is over stays open (quiet, not resolved) while its origin's
   * operation, by the spans that came after its last tag, is still at least this many times slower
   * than its slots' medians (the processor's level ratio, averaged over the quiet): a slowdown that
   * never went away, tagged in bursts. `0`: off.
   */
  hold_while_slower: z
    .number()
    .min(0)
    .max(100)
    .default(0)
    .refine((r) => r === 0 || r > 1, { message: 'must be 0 (off) or more than 1' }),
  /** ...for at most this long after its origin's last SEV3-or-worse tag. */
  max_hold: duration(24 * 3_600_000),
  /**
   * A resolved incident reopens (same id, a `reopened` notification) when what would open a new
   * one has the same origin service and operation within this long of its resolution: a fault
   * whose tags pause for more than `quiet_period` stays one incident. `0s` never reopens.
   */
  reopen_within: duration(0),
  /** Open at most this many at once; beyond, tagged spans that would open one are counted. */
  max_open: z.number().int().min(1).max(10_000).default(200),
  /** Traces remembered with their incident, so later spans of a trace join it. */
  max_traces: z.number().int().min(100).max(1_000_000).default(50_000),
  /** Resolved incidents kept in the database this long... */
  retention: duration(30 * 24 * 3_600_000),
  /** ...and at most this many. */
  max_stored: z.number().int().min(10).max(1_000_000).default(10_000),
  /** Distinct services in the Prometheus labels; the rest are counted as `other`. */
  max_metric_services: z.number().int().min(1).max(1_000).default(50),
});

export const incidentsSchema = incidentFields.prefault({} as z.input<typeof incidentFields>);

export type IncidentsConfig = z.output<typeof incidentsSchema>;
