import type { ComponentChildren } from 'preact';
import { html } from '../html.js';
import type { Loaded } from '../use-api.js';

function Loading({ what }: { what: string }) {
  return html`<p class="notice" role="status">Loading ${what}…</p>`;
}

/** What went wrong, in words; a 401 points at the token field in the header. */
function Problem({ status, message }: { status: number; message: string }) {
  if (status === 401) {
    return html`<p class="notice warn" role="alert">
      No data without a token: this admin API needs a bearer token. Enter it at the top of the page.
    </p>`;
  }
  return html`<p class="notice error" role="alert">${message}</p>`;
}

/** A page's placeholder when nothing has happened yet. */
export function Empty({ children }: { children: ComponentChildren }) {
  return html`<div class="notice empty">${children}</div>`;
}

/** Renders `ok` with the data, or the loading / problem notice. */
export function whenLoaded<T>(
  loaded: Loaded<T>,
  what: string,
  ok: (data: T) => ComponentChildren,
): ComponentChildren {
  if (loaded.state === 'loading') return html`<${Loading} what=${what} />`;
  if (loaded.state === 'error') return html`<${Problem} ...${loaded} />`;
  return ok(loaded.data);
}

/** The incidents API answers 404 when no incidents component is configured. */
export function IncidentsNotEnabled() {
  return html`<p class="notice" role="status">
    Incidents are not enabled: no incidents component is configured in this sidecar, so there is no
    service health or incident list to show. Tagged spans and baselines are shown as usual.
  </p>`;
}
