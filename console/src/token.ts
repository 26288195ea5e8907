/**
 * The admin API's bearer token, when it has an authenticator: typed in once, kept for the browser
 * tab (sessionStorage: gone when the tab closes), sent as `Authorization: Bearer` on every call.
 */
const KEY = 'hourglass.admin-token';

type Listener = () => void;
const listeners = new Set<Listener>();

/** Set when the API refused the token (or its absence): the shell then asks for one. */
let refused = false;

export function token(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(value: string | null): void {
  try {
    if (value === null || value === '') sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, value);
  } catch {
    // Storage disabled: the token lives as long as this page.
  }
  refused = false;
  notify();
}

export function tokenRefused(): boolean {
  return refused;
}

/** The API answered 401. */
export function markRefused(): void {
  if (refused) return;
  refused = true;
  notify();
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l();
}
