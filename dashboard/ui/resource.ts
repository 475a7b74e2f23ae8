/** A JSON document shown by a page, fetched again when a live change concerns it. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson } from './api.js';
import { useLive } from './live.js';
import type { Change } from './types.js';

export interface Resource<T> {
  /** The last good answer (kept while a refresh is under way or failed). */
  data?: T;
  /** Why the last fetch failed (cleared by the next good one). */
  error?: ApiError;
  loading: boolean;
  reload: () => void;
}

/**
 * @example
 *   const apps = useResource<{ items: AppRow[] }>('/api/apps', (c) => c.kind === 'ApplicationConfiguration')
 */
export function useResource<T>(path: string | undefined, concerns: (change: Change) => boolean): Resource<T> {
  const [state, setState] = useState<{ data?: T; error?: ApiError; loading: boolean; path?: string }>({
    loading: true,
  });
  const sequence = useRef(0);
  const reload = useCallback(() => {
    if (!path) return;
    const mine = ++sequence.current;
    setState((s) => ({ ...s, loading: true }));
    getJson<T>(path).then(
      (data) => {
        if (mine === sequence.current) setState({ data, loading: false, path });
      },
      (err: unknown) => {
        if (mine !== sequence.current) return;
        const error = err instanceof ApiError ? err : new ApiError(0, 'ERROR', String(err));
        setState((s) => ({ ...(s.path === path ? { data: s.data } : {}), error, loading: false, path }));
      },
    );
  }, [path]);
  useEffect(() => {
    setState({ loading: true });
    reload();
  }, [reload]);
  useLive(concerns, reload);
  return { ...(state.path === path ? state : { loading: true }), reload };
}
