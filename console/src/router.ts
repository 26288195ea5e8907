import { useEffect, useState } from 'preact/hooks';

/** The console's place: `#/live?service=payments` is `{ page: 'live', params: { service } }`. */
export interface Place {
  readonly page: string;
  /** Path segments after the page (`#/incidents/ID`: `['ID']`). */
  readonly rest: readonly string[];
  readonly params: URLSearchParams;
}

function parsePlace(hash: string): Place {
  const [path = '', q = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const [page = '', ...rest] = path.split('/').map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { page: page || 'overview', rest, params: new URLSearchParams(q) };
}

/** A link target: `href('baselines', { service: 'a' })` is `#/baselines?service=a`. */
export function href(
  page: string,
  params: Record<string, string | undefined> = {},
  ...rest: string[]
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const path = [page, ...rest].map(encodeURIComponent).join('/');
  const s = q.toString();
  return `#/${path}${s ? `?${s}` : ''}`;
}

/** Replaces the current place's parameters without a new history entry (filters). */
export function replaceParams(place: Place, params: Record<string, string | undefined>): void {
  const target = href(place.page, params, ...place.rest);
  history.replaceState(null, '', target);
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function usePlace(): Place {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return parsePlace(hash);
}
