import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readFaultList } from '../../src/detectors/anomaly/replay/faults.js';
import { readStream } from '../../src/detectors/anomaly/replay/inputs.js';
import { labelSpans, NEGATIVE } from '../../src/detectors/anomaly/replay/protocol.js';
import { SpanTable } from '../../src/detectors/anomaly/replay/span-table.js';

/**
 * The days of the Nezha dataset (IntelligentDDS, MIT) and the history each is judged after:
 * the fault-free sample of its system, and the other days of the same system reduced to their
 * negative spans (README.md here: "History").
 */
export interface Day {
  readonly day: string;
  readonly system: string;
  readonly faultFree: string;
  readonly otherDays: readonly string[];
}

export const DAYS: readonly Day[] = [
  {
    day: '2022-08-22',
    system: 'OnlineBoutique',
    faultFree: 'fault-free/2022-08-23',
    otherDays: ['2022-08-23'],
  },
  {
    day: '2022-08-23',
    system: 'OnlineBoutique',
    faultFree: 'fault-free/2022-08-23',
    otherDays: ['2022-08-22'],
  },
  { day: '2023-01-29', system: 'TrainTicket', faultFree: 'fault-free/2023-01-29', otherDays: [] },
];

/** What of the dataset a day needs that is missing (empty: all there). */
export function missing(data: string, d: Day): string[] {
  const need = [
    join(d.day, 'trace'),
    join(d.day, 'fault_list.json'),
    d.faultFree,
    ...d.otherDays.flatMap((o) => [join(o, 'trace'), join(o, 'fault_list.json')]),
  ];
  return need.filter((p) => !existsSync(join(data, p)));
}

/** The negative spans of other days (the protocol's: no positive, nothing left out). */
export function negativesOf(data: string, days: readonly string[]): SpanTable {
  const out = new SpanTable();
  for (const day of days) {
    const { table } = readStream([join(data, day, 'trace')]);
    const { faults } = readFaultList(join(data, day, 'fault_list.json'));
    const { label } = labelSpans(table, faults);
    for (let i = 0; i < table.count; i++) if (label[i] === NEGATIVE) table.copyTo(out, i);
  }
  return out;
}
