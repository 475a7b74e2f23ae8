import { Backoff, sleep } from './backoff.js';
import type { KubeClient } from './client.js';
import { isTransient } from './errors.js';

/** What `GET /version` says about the API server. */
export interface ServerVersion {
  major: string;
  minor: string;
  gitVersion: string;
  platform?: string;
}

export interface WaitForServerOptions {
  /** Stops waiting (the promise then rejects with an `AbortError`). */
  signal?: AbortSignal;
  /** Called before each retry: the attempt that failed (1, 2, ...), the wait before the next, why. */
  onWait?: (attempt: number, retryInMs: number, err: unknown) => void;
  /** @default 500 */
  initialMs?: number;
  /** @default 30000 */
  maxMs?: number;
}

/** The API server's version (`GET /version`, readable by anyone). */
export function serverVersion(kube: KubeClient, signal?: AbortSignal): Promise<ServerVersion> {
  return kube.request<ServerVersion>('/version', { timeoutMs: 10_000, ...(signal ? { signal } : {}) });
}

/**
 * Resolves with the server's version once the API server answers; while it cannot be reached (or
 * answers 5xx/429) retries with exponential backoff (500 ms doubling to 30 s, jittered), telling
 * `onWait` before each retry. Rejects at once for what waiting will not fix (TLS trust, a refused
 * credential, a broken kubeconfig), and with an `AbortError` when `signal` aborts.
 *
 * @example
 *   await waitForServer(kube, { signal, onWait: (n, ms, err) => logger.warn({ attempt: n, retryInMs: ms, err: String(err) }, 'waiting for the API server') })
 */
export async function waitForServer(kube: KubeClient, options: WaitForServerOptions = {}): Promise<ServerVersion> {
  const backoff = new Backoff(options.initialMs ?? 500, options.maxMs ?? 30_000);
  const aborted = () => Object.assign(new Error('stopped while waiting for the API server'), { name: 'AbortError' });
  for (;;) {
    if (options.signal?.aborted) throw aborted();
    try {
      return await serverVersion(kube, options.signal);
    } catch (err) {
      if (options.signal?.aborted) throw aborted();
      if (!isTransient(err)) throw err;
      const delay = backoff.next();
      options.onWait?.(backoff.attempts, delay, err);
      await sleep(delay, options.signal);
    }
  }
}
