/**
 * Numbers per slot in `KeyState.thr`: the durations (ms) where SEV5..SEV1 start (NaN: not learned,
 * the fixed thresholds apply), then the slot's p99, p50 and p95 (NaN before a recalculation).
 */
export const THR_STRIDE = 8;
/** The five severity thresholds, SEV5 first: `thr[at + THR_SEV5 + k]` is where SEV(5 - k) starts. */
export const THR_SEV5 = 0;
export const THR_SEVERITIES = 5;
export const THR_P99 = 5;
export const THR_P50 = 6;
export const THR_P95 = 7;
