import { useState } from 'preact/hooks';
import { ApiError, postJson, query } from '../api.js';
import type { Key, Profile } from '../api-types.js';
import { count, ms, time } from '../format.js';
import { html } from '../html.js';
import { replaceParams, type Place } from '../router.js';
import { useApi } from '../use-api.js';
import { Choice } from './choice.js';
import { bucketAt, Heatmap } from './heatmap.js';
import { Empty, whenLoaded } from './notice.js';
import { learningText } from './overview.js';
import { SlotPanel } from './slot-panel.js';

function Recalculate({ onDone }: { onDone: () => void }) {
  const [state, setState] = useState('');
  const run = async () => {
    setState('recalculating…');
    try {
      const r = await postJson<{ results: { changed: number }[] }>('/api/v1/recalculate', {});
      setState(`done: ${r.results.reduce((n, x) => n + x.changed, 0)} thresholds changed`);
      onDone();
    } catch (err) {
      setState(err instanceof ApiError ? err.message : String(err));
    }
  };
  return html`<span class="recalc">
    <button type="button" onClick=${run}>Recalculate thresholds now</button>
    <span role="status">${state}</span>
  </span>`;
}

function ProfileView({ p, reload }: { p: Profile; reload: () => void }) {
  const now = bucketAt(p.timezone);
  const [selected, setSelected] = useState(now >= 0 ? now : 0);
  const b = p.buckets;
  const describe = (what: string, v: (i: number) => string) => (i: number) =>
    `${b[i]!.window}: ${what} ${v(i)}, ${count(b[i]!.samples)} samples${i === now ? ' (now)' : ''}`;
  const common = { now, selected, onSelect: setSelected };
  return html`<div class="profile">
    <p class="profile-meta">
      <span>Time zone <strong>${p.timezone}</strong></span>
      <span
        >${`${count(p.global.samples)} samples in the window · a bucket needs ${p.min_samples} to score on its own · thresholds ${p.thresholds_computed_at ? `computed ${time(p.thresholds_computed_at)}` : 'not computed yet'}`}</span
      >
      <${Recalculate} onDone=${reload} />
    </p>
    ${
      p.thresholds_computed_at === null
        ? html`<p class="notice" role="status">
            Percentiles (p50, p99) come with the first threshold recalculation (nightly, or the
            button above); until then the maps of p50 and p99 are empty and the samples map shows
            what is learned.
          </p>`
        : null
    }
    <div class="maps">
      <${Heatmap}
        id="map-p50"
        title="p50 (median) duration"
        values=${b.map((s) => s.p50_ms)}
        format=${ms}
        log
        describe=${describe('p50', (i) => ms(b[i]!.p50_ms))}
        ...${common}
      />
      <${Heatmap}
        id="map-p99"
        title="p99 duration"
        values=${b.map((s) => s.p99_ms)}
        format=${ms}
        log
        describe=${describe('p99', (i) => ms(b[i]!.p99_ms))}
        ...${common}
      />
      <${Heatmap}
        id="map-samples"
        title="Samples per bucket"
        values=${b.map((s) => (s.samples > 0 ? s.samples : null))}
        format=${count}
        log=${false}
        describe=${describe('mean', (i) => ms(b[i]!.mean_ms))}
        ...${common}
      />
    </div>
    <${SlotPanel} slot=${b[selected]!} isNow=${selected === now} />
  </div>`;
}

/** Pick a service and operation; its 168 buckets as heatmaps, with the numbers of one bucket. */
export function Baselines({ place }: { place: Place }) {
  const keys = useApi<{ keys: Key[] }>('/api/v1/baselines', 60_000);
  const service = place.params.get('service') ?? '';
  const operation = place.params.get('operation') ?? '';
  const kind = place.params.get('kind') ?? '';
  const [version, setVersion] = useState(0);
  const profile = useApi<{ baselines: Profile[] }>(
    service && operation
      ? `/api/v1/baselines${query({ service, operation, kind, _: version || undefined })}`
      : null,
  );
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Baselines</h1>
    ${whenLoaded(keys, 'the baselines', ({ keys: list }) => {
      if (list.length === 0) {
        return html`<${Empty}
          ><p>
            No baselines yet: hourglass learns one per service, operation and span kind from the
            first spans it receives (or at once from history with <code>hourglass backfill</code>).
          </p><//
        >`;
      }
      const services = [...new Set(list.map((k) => k.service))].sort();
      const ops = list.filter((k) => k.service === service);
      const chosen = ops.findIndex((k) => k.operation === operation && (!kind || k.kind === kind));
      const set = (p: Record<string, string>) =>
        replaceParams(place, { service, operation, kind, ...p });
      const withBaseline = list.filter((k) => k.has_baseline).length;
      return html`<p class="learning" role="status">${learningText(withBaseline, list.length)}</p>
        <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
          <${Choice}
            id="baseline-service"
            label="Service"
            value=${service}
            all="choose a service"
            options=${services}
            onChange=${(v: string) => set({ service: v, operation: '', kind: '' })}
          />
          <${Choice}
            id="baseline-operation"
            label="Operation"
            value=${chosen < 0 ? '' : String(chosen)}
            all="choose an operation"
            disabled=${!service}
            options=${ops.map((k, i) => [String(i), `${k.operation} (${k.kind}, ${count(k.samples)} samples${k.has_baseline ? '' : ', learning'})`])}
            onChange=${(v: string) => {
              const k = ops[Number(v)];
              set({ operation: k?.operation ?? '', kind: k?.kind ?? '' });
            }}
          />
        </form>
        ${
          !service || !operation
            ? html`<p class="notice">
                Choose a service and an operation to see its baseline by day of week and hour.
              </p>`
            : whenLoaded(
                profile,
                'the baseline',
                ({ baselines }) =>
                  html`<${ProfileView}
                    key=${`${service} ${operation} ${kind}`}
                    p=${baselines[0]!}
                    reload=${() => setVersion((v) => v + 1)}
                  />`,
              )
        }`;
    })}
  </section>`;
}
