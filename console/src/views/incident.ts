import { count, span, time } from '../format.js';
import { html } from '../html.js';
import {
  heldOf,
  INCIDENTS,
  listOf,
  originText,
  resolutionOf,
  type Incident,
} from '../incident-model.js';
import { href } from '../router.js';
import { SeverityBadge } from '../severity.js';
import { useApi } from '../use-api.js';
import { SummaryFeedback } from './feedback.js';
import { IncidentsNotEnabled, whenLoaded } from './notice.js';
import { SeverityTimeline } from './severity-timeline.js';

function Detail({ i }: { i: Incident }) {
  const traces = listOf(i.sample_traces);
  const why = resolutionOf(i);
  const held = heldOf(i);
  return html`<article class="incident">
    <header class="incident-head">
      <${SeverityBadge} severity=${i.severity} />
      <span class=${`status status-${i.status}`}>${i.status}</span>
      <span>opened ${time(i.opened_at)}</span>
      <span
        >${i.resolved_at ? `resolved ${time(i.resolved_at)} after ${span(i.opened_at, i.resolved_at)}` : `open for ${span(i.opened_at)}`}</span
      >
      <span class="incident-id">id <code>${i.id}</code></span>
    </header>
    ${why && html`<p class="resolution"><strong>${`Resolved: ${why.label}.`}</strong>${` ${why.text}`}</p>`}
    ${held && html`<p class="held"><strong>Held open.</strong>${` ${held.text}`}</p>`}
    <h2>Origin</h2>
    <p class="origin">${originText(i.origin)}</p>
    <h2>Severity over time</h2>
    <${SeverityTimeline} points=${listOf(i.severity_timeline)} end=${i.resolved_at} />
    <div class="columns">
      <div>
        <h2>Affected services</h2>
        <ul class="plain">
          ${listOf(i.services).map(
            (s) =>
              html`<li>
                <a href=${href('live', { service: s.service })}>${s.service}</a
                >${`: ${count(s.count)} spans`}
              </li>`,
          )}
        </ul>
      </div>
      <div>
        <h2>Affected operations</h2>
        <ul class="plain">
          ${listOf(i.operations).map(
            (o) =>
              html`<li>
                <a href=${href('baselines', { service: o.service, operation: o.operation })}
                  >${o.service} ${o.operation}</a
                >${`: ${count(o.count)} spans`}
              </li>`,
          )}
        </ul>
      </div>
    </div>
    <h2>Sample traces</h2>
    ${
      traces.length === 0
        ? html`<p class="notice">No sample traces.</p>`
        : html`<ul class="plain traces">
            ${traces.map(
              (t) =>
                html`<li>
                  ${
                    t.jaeger_url
                      ? html`<a href=${t.jaeger_url} target="_blank" rel="noopener noreferrer"
                          >${t.trace_id} in Jaeger</a
                        >`
                      : html`<code>${t.trace_id}</code>`
                  }
                </li>`,
            )}
          </ul>`
    }
    ${
      i.summary
        ? html`<${SummaryFeedback} anomalyId=${i.summary.anomaly_id} summary=${i.summary.text} />`
        : html`<p class="notice">No summary yet: summaries are written in the background.</p>`
    }
  </article>`;
}

/** One incident: origin, severity over time, what it touched, sample traces, the summary to rate. */
export function IncidentPage({ id }: { id: string }) {
  const loaded = useApi<Incident>(`${INCIDENTS}/${encodeURIComponent(id)}`, 15_000);
  const notEnabled =
    loaded.state === 'error' &&
    loaded.status === 404 &&
    /not enabled|no incidents component|no such endpoint/i.test(loaded.message);
  return html`<section aria-labelledby="page-title">
    <p><a href=${href('incidents')}>← Incidents</a></p>
    <h1 id="page-title">Incident</h1>
    ${notEnabled ? html`<${IncidentsNotEnabled} />` : whenLoaded(loaded, 'the incident', (i) => html`<${Detail} i=${i} />`)}
  </section>`;
}
