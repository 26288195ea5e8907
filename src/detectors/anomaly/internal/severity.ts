import { z } from 'zod';

/**
 * Severities, SEV1 (critical) to SEV5 (low), as SREs search for them in Jaeger
 * (`anomaly.severity=SEV1`). Internally a severity is its number, 1..5; 0 means "not anomalous".
 */
export const SEVERITY_NAMES = ['SEV1', 'SEV2', 'SEV3', 'SEV4', 'SEV5'] as const;
export type SeverityName = (typeof SEVERITY_NAMES)[number];

export const SEVERITY_LABELS = ['critical', 'major', 'moderate', 'minor', 'low'] as const;

export function severityName(n: number): SeverityName {
  return SEVERITY_NAMES[n - 1]!;
}

export function severityLabel(n: number): string {
  return SEVERITY_LABELS[n - 1]!;
}

/** `SEV3`, `sev3` or `3` to 3; undefined when it is none of those. */
export function parseSeverity(text: string): number | undefined {
  const m = /^(?:sev)?([1-5])$/i.exec(text.trim());
  return m ? Number(m[1]) : undefined;
}

/** A severity setting in a component's config (`min_severity: SEV3`), read as its number. */
export const severitySetting = (fallback: SeverityName) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      const n = parseSeverity(v);
      if (n === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${v}" is not a severity: write SEV1 .. SEV5` });
        return z.NEVER;
      }
      return n;
    });

/**
 * The severity (1..5) of a deviation, or 0 below the SEV5 threshold. `t[at .. at + 4]` holds the
 * thresholds least severe first (SEV5 .. SEV1): at or above `t[at + 5 - n]` is severity n.
 */
export function severityOf(score: number, t: ArrayLike<number>, at = 0): number {
  if (!(score >= t[at]!)) return 0;
  let sev = 5;
  for (let k = 1; k < 5 && score >= t[at + k]!; k++) sev--;
  return sev;
}
