/** The admin API's answers as the console reads them (src/admin/README.md documents each). */

export interface Key {
  readonly processor: string;
  readonly service: string;
  readonly operation: string;
  readonly kind: string;
  readonly samples: number;
  readonly has_baseline: boolean;
}

export interface Anomaly {
  readonly processor: string;
  readonly id: string;
  readonly trace_id: string;
  readonly service: string;
  readonly operation: string;
  readonly kind: string;
  readonly start: string;
  readonly duration_ms: number;
  readonly severity: string;
  readonly severity_label: string;
  readonly reason: string;
  readonly operation_ratio?: number;
  readonly score: number;
  readonly ratio: number;
  readonly baseline: {
    readonly mean_ms: number;
    readonly stddev_ms: number;
    readonly p99_ms: number;
    readonly samples: number;
    readonly scope: string;
    readonly window: string;
  };
  readonly summary: string | null;
  readonly jaeger_url?: string;
}

export interface Counts {
  readonly since: string;
  readonly until: string;
  readonly step_ms: number;
  readonly services: readonly {
    readonly processor: string;
    readonly service: string;
    readonly total: number;
    readonly by_severity: Readonly<Record<string, number>>;
    readonly counts: readonly number[];
  }[];
}

export interface Slot {
  readonly scope: string;
  readonly window: string;
  readonly samples: number;
  readonly mean_ms: number | null;
  readonly stddev_ms: number | null;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly p99_ms: number | null;
  readonly thresholds: {
    readonly source: 'learned' | 'fixed';
    readonly sigma: Readonly<Record<string, number>>;
    readonly ms: Readonly<Record<string, number>> | null;
  };
  readonly served_by?: { readonly scope: string; readonly window: string } | null;
}

export interface Profile {
  readonly processor: string;
  readonly service: string;
  readonly operation: string;
  readonly kind: string;
  readonly timezone: string;
  readonly min_samples: number;
  readonly thresholds_computed_at: string | null;
  readonly buckets: readonly Slot[];
  readonly hours: readonly Slot[];
  readonly days: readonly Slot[];
  readonly global: Slot;
}

export interface FeedbackAnswer {
  readonly anomaly_id: string;
  readonly summary_id: string;
  readonly summary: string;
  readonly rating: number;
  readonly correction: string | null;
  readonly rated_at: string;
}
