import { html } from '../html.js';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const LEVELS = 7;

/** The day-of-week x hour bucket (Monday 00:00 is 0) that `at` falls in, in `timeZone`. */
export function bucketAt(timeZone: string, at = new Date()): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const day = DAYS.indexOf(parts.find((p) => p.type === 'weekday')?.value as (typeof DAYS)[number]);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value) % 24;
  return day < 0 || !Number.isFinite(hour) ? -1 : day * 24 + hour;
}

/** Colour level 0..6 of each value: a log scale for durations, linear for counts. */
function levels(values: readonly (number | null)[], log: boolean): (number | null)[] {
  const f = (v: number) => (log ? Math.log(Math.max(v, 1e-3)) : v);
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return values.map(() => null);
  const lo = Math.min(...present.map(f));
  const hi = Math.max(...present.map(f));
  return values.map((v) =>
    v === null || !Number.isFinite(v)
      ? null
      : hi === lo
        ? LEVELS - 1
        : Math.round(((f(v) - lo) / (hi - lo)) * (LEVELS - 1)),
  );
}

export interface HeatmapProps {
  readonly id: string;
  readonly title: string;
  /** 168 values, Monday 00:00 first; null: nothing there. */
  readonly values: readonly (number | null)[];
  readonly format: (v: number) => string;
  readonly log: boolean;
  /** Words for a cell (its aria-label and tooltip). */
  readonly describe: (i: number) => string;
  readonly now: number;
  readonly selected: number;
  readonly onSelect: (i: number) => void;
}

const MOVES: Readonly<Record<string, (i: number) => number>> = {
  ArrowLeft: (i) => (i % 24 === 0 ? i : i - 1),
  ArrowRight: (i) => (i % 24 === 23 ? i : i + 1),
  ArrowUp: (i) => (i < 24 ? i : i - 24),
  ArrowDown: (i) => (i >= 144 ? i : i + 24),
  Home: (i) => i - (i % 24),
  End: (i) => i - (i % 24) + 23,
};

/**
 * A 7 x 24 heatmap of day of week by hour. One tab stop per map (the selected cell); the arrow
 * keys, Home and End move between cells; focusing or hovering a cell selects it, and the page
 * shows its numbers. The bucket of "now" is outlined.
 */
export function Heatmap(p: HeatmapProps) {
  const lv = levels(p.values, p.log);
  const present = p.values.filter((v): v is number => v !== null && Number.isFinite(v));
  const onKeyDown = (e: KeyboardEvent) => {
    const move = MOVES[e.key];
    if (!move) return;
    e.preventDefault();
    const next = move(p.selected);
    p.onSelect(next);
    const grid = (e.currentTarget as HTMLElement).closest('[role=grid]');
    (grid?.querySelector(`[data-i="${next}"]`) as HTMLElement | null)?.focus();
  };
  return html`<figure class="heatmap" id=${p.id}>
    <figcaption>${p.title}</figcaption>
    <div
      role="grid"
      aria-label=${`${p.title}, day of week by hour`}
      class="grid"
      onKeyDown=${onKeyDown}
    >
      <div role="row" class="hours">
        <span role="columnheader" class="corner"></span>
        ${Array.from(
          { length: 24 },
          (_, h) =>
            html`<span role="columnheader" class="hour" aria-label=${`${h}:00`}
              >${h % 3 === 0 ? h : ''}</span
            >`,
        )}
      </div>
      ${DAYS.map(
        (day, d) =>
          html`<div role="row" class="row">
            <span role="rowheader" class="day">${day}</span>
            ${Array.from({ length: 24 }, (_, h) => {
              const i = d * 24 + h;
              const l = lv[i];
              return html`<span
                role="gridcell"
                data-i=${i}
                tabindex=${i === p.selected ? 0 : -1}
                class=${`cell ${l === null || l === undefined ? 'none' : `l${l}`}${i === p.now ? ' now' : ''}${i === p.selected ? ' selected' : ''}`}
                aria-label=${p.describe(i)}
                aria-selected=${i === p.selected}
                title=${p.describe(i)}
                onFocus=${() => p.onSelect(i)}
                onMouseEnter=${() => p.onSelect(i)}
              ></span>`;
            })}
          </div>`,
      )}
    </div>
    <div class="legend" aria-hidden="true">
      ${
        present.length === 0
          ? html`<span>no values yet</span>`
          : html`<span>${p.format(Math.min(...present))}</span>
              ${Array.from({ length: LEVELS }, (_, l) => html`<span class=${`swatch l${l}`}></span>`)}
              <span>${p.format(Math.max(...present))}</span>`
      }
      <span class="swatch none"></span><span>none</span> <span class="swatch now"></span
      ><span>now</span>
    </div>
  </figure>`;
}
