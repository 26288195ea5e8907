/**
 * Numbers per slot in `KeyState.thr`: the durations (ms) where SEV5..SEV1 start (NaN: not learned,
 * the fixed thresholds apply), then the slot's p99, p50 and p95 (NaN before a recalculation).
 */
export const THR_STRIDE = 8;
export const THR_P99 = 5;
export const THR_P50 = 6;
export const THR_P95 = 7;
