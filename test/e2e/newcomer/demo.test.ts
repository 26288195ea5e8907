import { describe, expect, it } from 'vitest';
import { npm } from '../../helpers/process.js';

const counts = (text: string) =>
  text === 'none' ? 0 : text.split(', ').reduce((n, part) => n + Number(part.split(' ')[1]), 0);

/**
 * `npm run demo` as a newcomer runs it: what it prints must add up. The traffic lines cover each
 * simulated day once and sum to the totals printed after them; the incident is tagged; the admin
 * API example is one of the incident's anomalies.
 */
describe('npm run demo', () => {
  it('lists every day once, its counts add up, and it shows the incident', async () => {
    const r = await npm('run', 'demo');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = [
      ...r.stdout.matchAll(
        /^(\w{3} \d\d \w{3})(?: \.\. (\w{3} \d\d \w{3}))?: (\d+) spans, tagged: (.*)$/gm,
      ),
    ];
    // Mon 05 Jan .. Sun 25 Jan, each day in exactly one line, in order.
    const days = lines.map((m): [string, string] => [m[1]!, m[2] ?? m[1]!]);
    expect(days[0]![0]).toBe('Mon 05 Jan');
    expect(days.at(-1)![1]).toBe('Sun 25 Jan');
    const dayOf = (d: string) => Number(d.slice(4, 6));
    for (let i = 1; i < days.length; i++) {
      expect(dayOf(days[i]![0])).toBe(dayOf(days[i - 1]![1]) + 1);
    }
    const total =
      /^after 3 weeks: (\d+) spans, tagged (\d+) \([\d.]+%\); (\d+) of them in the first week/m.exec(
        r.stdout,
      )!;
    expect(lines.reduce((n, m) => n + Number(m[3]), 0)).toBe(Number(total[1]));
    expect(lines.reduce((n, m) => n + counts(m[4]!), 0)).toBe(Number(total[2]));
    const firstWeek = lines.filter((m) => dayOf(m[2] ?? m[1]!) <= 11);
    expect(firstWeek.reduce((n, m) => n + counts(m[4]!), 0)).toBe(Number(total[3]));

    const incident =
      /^tagged before 10:00: (.*); during the incident: (.*); after it ended \(10:30-12:00\): (.*?)(?:, the last at (\d\d:\d\d))?$/m.exec(
        r.stdout,
      )!;
    expect(incident[2]).toMatch(/^SEV1 \d+/);
    const example = JSON.parse(
      /\(the first during the incident\):\n([\s\S]*?\n {2}\})\n/.exec(r.stdout)![1]!,
    ) as { start: string; severity: string; jaeger_url: string };
    expect(example.severity).toBe('SEV1');
    expect(Date.parse(example.start)).toBeGreaterThanOrEqual(Date.parse('2026-01-26T09:00:00Z'));
    expect(Date.parse(example.start)).toBeLessThan(Date.parse('2026-01-26T09:30:00Z'));
    expect(example.jaeger_url).toMatch(/^http:\/\/localhost:16686\/trace\//);
  }, 90_000);
});
