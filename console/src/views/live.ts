import { useState } from 'preact/hooks';
import type { Anomaly, Key } from '../api-types.js';
import { ms, ratio, time } from '../format.js';
import { html } from '../html.js';
import { useLiveFeed } from '../live-feed.js';
import { replaceParams, type Place } from '../router.js';
import { SeverityBadge, SeverityChoice, severityNumber } from '../severity.js';
import { Choice } from './choice.js';
import { useApi } from '../use-api.js';
import { SummaryFeedback } from './feedback.js';
import { Empty } from './notice.js';

const STATE_TEXT: Readonly<Record<string, string>> = {
  connecting: 'connecting…',
  open: 'live',
  retrying: 'reconnecting in a few seconds…',
  unavailable: 'no anomaly stream here',
  unauthorized: 'no data without a token',
};

function Row({ a }: { a: Anomaly }) {
  return html`<li class="anomaly" data-anomaly=${a.id}>
    <details>
      <summary>
        <${SeverityBadge} severity=${a.severity} />
        <span class="when">${time(a.start)}</span>
        <span class="what"><strong>${a.service}</strong> ${a.operation}</span>
        <span class="how">${ms(a.duration_ms)} (${ratio(a.ratio)} its mean)</span>
      </summary>
      <dl class="facts">
        <dt>Why</dt>
        <dd>
          ${
            a.reason === 'slow_operation'
              ? `the operation is ${ratio(a.operation_ratio)} slower than normal lately`
              : 'this span alone is rare for its hour'
          }
        </dd>
        <dt>Baseline</dt>
        <dd>
          ${`${a.baseline.window} (${a.baseline.scope}): mean ${ms(a.baseline.mean_ms)}, p99 ${ms(a.baseline.p99_ms)}, ${a.baseline.samples} samples; score ${a.score.toFixed(1)} σ`}
        </dd>
        <dt>Trace</dt>
        <dd>
          ${
            a.jaeger_url
              ? html`<a href=${a.jaeger_url} target="_blank" rel="noopener noreferrer"
                  >open in Jaeger</a
                >`
              : html`<code>${a.trace_id}</code>`
          }
        </dd>
      </dl>
      ${a.summary ? html`<${SummaryFeedback} anomalyId=${a.id} summary=${a.summary} />` : null}
    </details>
  </li>`;
}

/** Anomalies as they are tagged, with filters by service, operation and severity; pause, resume. */
export function Live({ place }: { place: Place }) {
  const [paused, setPaused] = useState(false);
  const feed = useLiveFeed(paused);
  const keys = useApi<{ keys: Key[] }>('/api/v1/baselines', 60_000);
  const service = place.params.get('service') ?? '';
  const operation = place.params.get('operation') ?? '';
  const severity = place.params.get('min_severity') ?? '';
  const set = (k: string, v: string) =>
    replaceParams(place, {
      service,
      operation,
      min_severity: severity,
      [k]: v,
      ...(k === 'service' ? { operation: '' } : {}),
    });
  const list = keys.state === 'ok' ? keys.data.keys : [];
  const services = [...new Set(list.map((k) => k.service))].sort();
  const operations = [
    ...new Set(list.filter((k) => !service || k.service === service).map((k) => k.operation)),
  ].sort();
  const max = severity ? severityNumber(severity) : 5;
  const shown = feed.items.filter(
    (a) =>
      (!service || a.service === service) &&
      (!operation || a.operation === operation) &&
      severityNumber(a.severity) <= max,
  );
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title">Live anomalies</h1>
    <div class="toolbar">
      <form class="filters" onSubmit=${(e: Event) => e.preventDefault()}>
        <${Choice}
          id="live-service"
          label="Service"
          value=${service}
          all="all services"
          options=${services}
          onChange=${(v: string) => set('service', v)}
        />
        <${Choice}
          id="live-operation"
          label="Operation"
          value=${operation}
          all="all operations"
          options=${operations}
          onChange=${(v: string) => set('operation', v)}
        />
        <${SeverityChoice}
          id="live-severity"
          value=${severity}
          onChange=${(v: string) => set('min_severity', v)}
        />
      </form>
      <div class="stream-controls">
        <span class=${`stream-state stream-${feed.state}`} role="status">
          ${paused ? `paused${feed.held ? `: ${feed.held} new` : ''}` : STATE_TEXT[feed.state]}
        </span>
        <button type="button" id="pause" aria-pressed=${paused} onClick=${() => setPaused(!paused)}>
          ${paused ? 'Resume' : 'Pause'}
        </button>
      </div>
    </div>
    ${feed.state === 'unavailable' && feed.detail ? html`<p class="notice error" role="alert">${feed.detail}</p>` : null}
    ${
      feed.state === 'unauthorized'
        ? html`<p class="notice warn" role="alert">
            No data without a token: enter the admin API's bearer token at the top of the page.
          </p>`
        : shown.length === 0
          ? html`<${Empty}>
              <p>
                ${
                  feed.items.length === 0
                    ? 'No anomalies yet. New ones appear here as they are tagged.'
                    : 'No anomalies match these filters yet.'
                }
              </p>
            <//>`
          : html`<ol class="feed" aria-label="Anomalies, newest first">
              ${shown.map((a) => html`<${Row} key=${a.id} a=${a} />`)}
            </ol>`
    }
  </section>`;
}
