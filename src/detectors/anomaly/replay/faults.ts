import { readFileSync } from 'node:fs';
import { serviceOfPod } from './csv-spans.js';

/**
 * A fault list of the Nezha / TraStrainer datasets (`fault_list.json`, `label.json`): injections
 * by hour (`{"03": [{...}], "04": [...]}`) or as one array, each
 * `{ inject_time, inject_timestamp, inject_pod, inject_type }`.
 */
export interface Fault {
  /** When it was injected (ms since the epoch, moved with the spans by `--shift`). */
  readonly at: number;
  readonly pod: string;
  readonly service: string;
  readonly type: string;
  /** A latency fault (`cpu_contention`, `network_delay`), which replay scores. */
  readonly latency: boolean;
}

export const LATENCY_FAULTS = ['cpu_contention', 'network_delay'] as const;

export interface FaultList {
  readonly faults: Fault[];
  /** What the reader noticed (timestamps that disagree with the times). */
  readonly notes: string[];
}

interface RawFault {
  inject_time?: unknown;
  inject_timestamp?: unknown;
  inject_pod?: unknown;
  inject_type?: unknown;
}

/**
 * Reads a fault list. `inject_time` (`2022-08-22 03:53:54`) is read as UTC, the clock of the
 * datasets' trace files; `inject_timestamp` (Unix seconds) is used when there is no
 * `inject_time`. Where both are given and disagree (the TrainTicket list's timestamps are eight
 * hours off, some repeated), the time is used and the disagreement noted.
 */
export function readFaultList(path: string, shiftMs = 0): FaultList {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: cannot read the fault list (${(err as Error).message})`);
  }
  const raw: RawFault[] = Array.isArray(doc)
    ? (doc as RawFault[])
    : doc !== null && typeof doc === 'object'
      ? Object.keys(doc)
          .sort()
          .flatMap((k) => {
            const v = (doc as Record<string, unknown>)[k];
            return Array.isArray(v) ? (v as RawFault[]) : [];
          })
      : [];
  const notes: string[] = [];
  let disagree = 0;
  let largest = 0;
  const faults = raw.map((f, k) => {
    const where = `${path}: fault ${k + 1}`;
    const pod = typeof f.inject_pod === 'string' ? f.inject_pod : '';
    const type = typeof f.inject_type === 'string' ? f.inject_type : '';
    if (pod === '' || type === '') throw new Error(`${where}: needs inject_pod and inject_type`);
    const time = typeof f.inject_time === 'string' ? parseUtc(f.inject_time) : Number.NaN;
    const stamp = Number(f.inject_timestamp) * 1000;
    if (Number.isNaN(time) && !Number.isFinite(stamp)) {
      throw new Error(
        `${where}: needs inject_time ("YYYY-MM-DD HH:MM:SS", UTC) or inject_timestamp`,
      );
    }
    const at = Number.isNaN(time) ? stamp : time;
    if (!Number.isNaN(time) && Number.isFinite(stamp) && Math.abs(stamp - time) > 60_000) {
      disagree++;
      largest = Math.max(largest, Math.abs(stamp - time));
    }
    return {
      at: at + shiftMs,
      pod,
      service: serviceOfPod(pod),
      type,
      latency: (LATENCY_FAULTS as readonly string[]).includes(type),
    };
  });
  if (disagree > 0) {
    notes.push(
      `${path}: inject_timestamp disagrees with inject_time (read as UTC) by up to ${(largest / 3_600_000).toFixed(1)} h for ${disagree} of ${faults.length} faults; inject_time used`,
    );
  }
  return { faults: faults.sort((a, b) => a.at - b.at), notes };
}

function parseUtc(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)Z?$/.exec(text.trim());
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s] = m;
  return Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!) + Math.round(Number(s) * 1000);
}
