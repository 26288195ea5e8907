import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson } from './api.js';
import { onTokenChange } from './token.js';

export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'ok'; readonly data: T }
  | { readonly state: 'error'; readonly status: number; readonly message: string };

/**
 * GETs `path` (again when it changes, every `refreshMs` when given, and when a new token is
 * typed in). A 404 is kept as an error with its status, so a view can tell "not enabled" apart.
 */
export function useApi<T>(path: string | null, refreshMs?: number): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [tick, setTick] = useState(0);
  useEffect(() => onTokenChange(() => setTick((t) => t + 1)), []);
  useEffect(() => {
    if (!refreshMs) return;
    const timer = setInterval(() => setTick((t) => t + 1), refreshMs);
    return () => clearInterval(timer);
  }, [refreshMs]);
  useEffect(() => {
    if (path === null) return;
    const ctrl = new AbortController();
    getJson<T>(path, ctrl.signal).then(
      (data) => setLoaded({ state: 'ok', data }),
      (err: unknown) => {
        if (ctrl.signal.aborted) return;
        setLoaded(
          err instanceof ApiError
            ? { state: 'error', status: err.status, message: err.message }
            : {
                state: 'error',
                status: 0,
                message: `the admin API cannot be reached (${String(err)})`,
              },
        );
      },
    );
    return () => ctrl.abort();
  }, [path, tick]);
  return loaded;
}
