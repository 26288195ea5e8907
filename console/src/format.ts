/** Milliseconds as people read them: 0.42 ms, 12.3 ms, 1,204 ms, 3.2 s. */
export function ms(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  if (v >= 100) return `${Math.round(v).toLocaleString('en-US')} ms`;
  if (v >= 1) return `${v.toFixed(1)} ms`;
  return `${v.toFixed(2)} ms`;
}

export function count(v: number): string {
  return v.toLocaleString('en-US');
}

/** A time as `09:12:05` today, else `Jan 26 09:12`. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const now = new Date();
  const sameDay = d.toDateString() === now.toDateString();
  return sameDay
    ? d.toLocaleTimeString('en-GB', { hour12: false })
    : `${d.toLocaleDateString('en-US', { month: 'short', day: 'numeric' })} ${d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false })}`;
}

/** `4 min`, `2 h 5 min`: how long from `from` to `to` (or now). */
export function span(from: string, to?: string | null): string {
  const t = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (!Number.isFinite(t) || t < 0) return '–';
  const min = Math.round(t / 60_000);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

export function ratio(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(1)}x`;
}
