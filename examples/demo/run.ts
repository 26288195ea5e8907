/**
 * `npm run demo`: hourglass at work, without Jaeger and in about ten seconds.
 *
 * 1. Starts the sidecar in this process from an ordinary config (OTLP receiver, the anomaly
 *    processor, the admin API), on a fast clock: a simulated clock that the demo moves forward,
 *    firing the sidecar's flushes and its 03:00 threshold recalculations on the way.
 * 2. Plays three weeks of seasonal traffic from three services instrumented with the real
 *    OpenTelemetry JS SDK: rush hours on weekdays, quiet nights, and a settlement batch that makes
 *    card authorizations slow every Saturday at 03:00.
 * 3. On the fourth Monday, the card processor slows down 6x between 10:00 and 10:30.
 * 4. Shows the spans hourglass tagged, with their severities, and what the admin API serves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { AdminExtension } from '../../src/admin/admin-extension.js';
import { builtinFactories } from '../../src/components.js';
import { loadConfigText } from '../../src/config/load.js';
import { staticResolver } from '../../src/config/validate.js';
import type { AnomalyProcessor } from '../../src/detectors/anomaly/anomaly-processor.js';
import { startFromConfig } from '../../src/main.js';
import type { OtlpReceiver } from '../../src/receiver/otlp/otlp-receiver.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { FakeClock } from '../../test/helpers/fake-clock.js';
import { Fleet } from './fleet.js';
import { TaggedSpans, type TaggedSpan } from './printer.js';
import { Traffic } from './traffic.js';

const ZONE = 'Europe/Berlin';
const H = 3_600_000;
const DAY = 24 * H;
const START = Date.UTC(2026, 0, 4, 23); // Monday 2026-01-05 00:00 in Berlin
const WEEKS = 3;
const INCIDENT = { from: START + WEEKS * 7 * DAY + 10 * H, to: START + WEEKS * 7 * DAY + 10.5 * H };

const local = (ms: number) =>
  new Date(ms).toLocaleString('en-GB', {
    timeZone: ZONE,
    weekday: 'short',
    day: '2-digit',
    month: 'short',
    hour: '2-digit',
    minute: '2-digit',
  });

function severityCounts(spans: readonly TaggedSpan[]): string {
  const counts = new Map<string, number>();
  for (const s of spans) {
    const sev = String(s.attributes['anomaly.severity']);
    counts.set(sev, (counts.get(sev) ?? 0) + 1);
  }
  const list = [...counts].sort().map(([k, v]) => `${k} ${v}`);
  return list.length === 0 ? 'none' : list.join(', ');
}

const dir = mkdtempSync(join(tmpdir(), 'hourglass-demo-'));
const clock = new FakeClock(START);
const printer = new TaggedSpans();
const config = await loadConfigText(
  stringify({
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:0' } } } },
    processors: {
      anomaly: { storage: join(dir, 'hourglass.db'), timezone: ZONE, flush_interval: '1m' },
    },
    exporters: { demo_tagged: {} },
    extensions: { admin: { endpoint: '127.0.0.1:0', jaeger_ui_url: 'http://localhost:16686' } },
    service: {
      extensions: ['admin'],
      pipelines: {
        traces: { receivers: ['otlp'], processors: ['anomaly'], exporters: ['demo_tagged'] },
      },
      telemetry: { metrics: { level: 'none' } },
    },
  }),
  'demo-config.yaml',
  staticResolver(builtinFactories([printer.factory])),
);
const sidecar = await startFromConfig(config, { clock, logger: silentLogger() });
const detector = sidecar.service.find<AnomalyProcessor>('processor', 'anomaly')!.detector;
const otlp = `http://${sidecar.service.find<OtlpReceiver>('receiver', 'otlp')!.addresses().http!}`;
const admin = `http://${sidecar.service.find<AdminExtension>('extension', 'admin')!.address()!}`;
const fleet = new Fleet(otlp);
const traffic = new Traffic(ZONE);

console.log(`hourglass demo: sidecar listening on ${otlp} (OTLP/HTTP), admin API on ${admin}`);
console.log(
  `playing ${WEEKS} weeks of traffic from frontend, cart and payments (time zone ${ZONE})\n`,
);

/** Plays [from, to) of simulated time: the clock first (flushes, recalculations), then the spans. */
async function play(
  from: number,
  to: number,
  slowdown?: { from: number; to: number; factor: number },
) {
  clock.set(to);
  await detector.idle();
  for (const t of traffic.checkouts(from, to)) {
    const factor =
      slowdown && t.startMs >= slowdown.from && t.startMs < slowdown.to ? slowdown.factor : 1;
    fleet.checkout(t.startMs, t.dbMs, t.authorizeMs * factor);
  }
  await fleet.flush();
}

try {
  // The first two days one by one, then the rest of each week: the lines add up to the total.
  const periods: [number, number][] = [
    [0, 1],
    [1, 2],
    [2, 7],
  ];
  for (let w = 1; w < WEEKS; w++) periods.push([w * 7, (w + 1) * 7]);
  let firstWeekTags = 0;
  for (const [from, to] of periods) {
    const before = printer.tagged.length;
    const spansBefore = printer.spans;
    for (let day = from; day < to; day++) await play(START + day * DAY, START + (day + 1) * DAY);
    const tagged = printer.tagged.slice(before);
    if (to <= 7) firstWeekTags += tagged.length;
    const days =
      to - from === 1
        ? local(START + from * DAY).slice(0, 10)
        : `${local(START + from * DAY).slice(0, 10)} .. ${local(START + (to - 1) * DAY).slice(0, 10)}`;
    console.log(`${days}: ${printer.spans - spansBefore} spans, tagged: ${severityCounts(tagged)}`);
  }
  const share = (n: number, of: number) => `${((100 * n) / of).toFixed(2)}%`;
  console.log(
    `\nafter ${WEEKS} weeks: ${printer.spans} spans, tagged ${printer.tagged.length} (${share(printer.tagged.length, printer.spans)}); ${firstWeekTags} of them in the first week, while buckets were new`,
  );

  // Saturday 03:00 of the last week: slow by nature, and known to be.
  const saturday = START + (WEEKS - 1) * 7 * DAY + 5 * DAY + 3 * H;
  const batchHour = printer.tagged.filter(
    (s) => s.startMs >= saturday && s.startMs < saturday + H && s.name === 'POST /v1/authorize',
  );
  console.log(
    `Saturday 03:00 settlement batch (last week): card authorizations take ~${Math.round(traffic.authorizeMedian(5, 3))} ms, normal for that hour; tagged: ${severityCounts(batchHour)}`,
  );

  // The fourth Monday, up to noon, with the incident at 10:00.
  const incidentStart = printer.tagged.length;
  await play(START + WEEKS * 7 * DAY, START + WEEKS * 7 * DAY + 12 * H, { ...INCIDENT, factor: 6 });
  const monday = printer.tagged.slice(incidentStart);
  const during = monday.filter((s) => s.startMs >= INCIDENT.from && s.startMs < INCIDENT.to);
  const after = monday.filter((s) => s.startMs >= INCIDENT.to);
  console.log(
    `\nMonday ${local(INCIDENT.from).slice(4, 10)}, 10:00-10:30: the card processor is 6x slower (~${Math.round(6 * traffic.authorizeMedian(0, 10))} ms)`,
  );
  const lastTag =
    after.length > 0
      ? `, the last at ${local(Math.max(...after.map((s) => s.startMs))).slice(-5)}`
      : '';
  console.log(
    `tagged before 10:00: ${severityCounts(monday.filter((s) => s.startMs < INCIDENT.from))}; ` +
      `during the incident: ${severityCounts(during)}; after it ended (10:30-12:00): ${severityCounts(after)}${lastTag}\n`,
  );
  console.log('a few of them, as they leave the sidecar for Jaeger:');
  const shown = new Set<string>();
  for (const s of during) {
    const key = `${s.service} ${s.name}`;
    if (shown.has(key)) continue;
    shown.add(key);
    const a = s.attributes;
    console.log(
      `  ${local(s.startMs).slice(-5)} ${s.service.padEnd(8)} ${s.name.padEnd(18)} ${s.durationMs.toFixed(0).padStart(5)} ms  ` +
        `${a['anomaly.severity']} (${a['anomaly.severity_label']})  score ${Number(a['anomaly.score']).toFixed(1)} sigma, ` +
        `${Number(a['anomaly.ratio']).toFixed(1)}x the ${a['anomaly.baseline.scope']} baseline ` +
        `"${a['anomaly.baseline.window']}" (mean ${Number(a['anomaly.baseline.mean_ms']).toFixed(0)} ms, ${a['anomaly.baseline.samples']} samples)`,
    );
  }

  // The history is written at each flush: let one pass, so that it holds the whole morning.
  clock.advance(60_000);
  await detector.idle();
  const query = `service=payments&min_severity=SEV1&since=${new Date(INCIDENT.from).toISOString()}&limit=1000`;
  const history = (await (await fetch(`${admin}/api/v1/anomalies?${query}`)).json()) as {
    anomalies: { start: string; operation: string }[];
  };
  // The newest come first: show the first one of the incident.
  const first = history.anomalies
    .filter((a) => Date.parse(a.start) < INCIDENT.to && a.operation === 'POST /v1/authorize')
    .at(-1);
  console.log(`\nGET ${admin}/api/v1/anomalies?${query} (the first during the incident):`);
  console.log(JSON.stringify(first, null, 2).replace(/^/gm, '  '));
  console.log(
    `\nmore: GET /api/v1/baselines?service=payments&operation=POST%20/v1/authorize (168 buckets),`,
  );
  console.log('      GET /api/v1/anomalies/stream (server-sent events), POST /api/v1/recalculate');
} finally {
  await fleet.shutdown();
  await sidecar.shutdown();
  rmSync(dir, { recursive: true, force: true });
}
