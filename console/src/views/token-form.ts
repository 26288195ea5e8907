import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { onTokenChange, setToken, token, tokenRefused } from '../token.js';

/**
 * The header's token field: shown when the API answered 401, and as a "forget" button once a
 * token is set. The token stays in this tab's sessionStorage only.
 */
export function TokenForm() {
  const [, setTick] = useState(0);
  const [draft, setDraft] = useState('');
  useEffect(() => onTokenChange(() => setTick((t) => t + 1)), []);
  const current = token();
  if (!tokenRefused()) {
    return current
      ? html`<button class="link-button" type="button" onClick=${() => setToken(null)}>
          Forget token
        </button>`
      : null;
  }
  const submit = (e: Event) => {
    e.preventDefault();
    setToken(draft.trim());
    setDraft('');
  };
  return html`<form class="token-form" onSubmit=${submit}>
    <label for="token-input"
      >${current ? 'The token was refused; another:' : 'Bearer token for this admin API:'}</label
    >
    <input
      id="token-input"
      type="password"
      autocomplete="off"
      required
      value=${draft}
      onInput=${(e: Event) => setDraft((e.currentTarget as HTMLInputElement).value)}
    />
    <button type="submit">Use token</button>
  </form>`;
}
