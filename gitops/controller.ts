import { API_VERSION, type GitSync } from '../apis/generated/gitops.trellis.dev-v1alpha1.js';
import type { KubeClient } from '../kube/client.js';
import { Backoff } from '../kube/backoff.js';
import { Informer } from '../kube/informer.js';
import type { KubeObject } from '../kube/types.js';
import { messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { GitSyncReconciler, type GitSyncReconcilerOptions, type ReconcileRequest } from './reconcile.js';

/** Set (to any new value, e.g. a timestamp) to sync a GitSync now; the push receiver does this. */
export const ANNOTATION_REQUESTED_AT = 'gitops.trellis.dev/requested-at';

export interface GitSyncControllerOptions extends GitSyncReconcilerOptions {
  /** GitSyncs synced at once. @default 2 */
  workers?: number;
  /** Watch one namespace. @default all */
  namespace?: string;
}

type Obj = GitSync & KubeObject;

/** Whether an update is worth a sync: the spec changed, or someone asked for one. Status writes are not. */
export function wantsSync(obj: Obj, old: Obj): boolean {
  return obj.metadata.generation !== old.metadata.generation || obj.metadata.annotations?.[ANNOTATION_REQUESTED_AT] !== old.metadata.annotations?.[ANNOTATION_REQUESTED_AT];
}

/**
 * Runs the {@link GitSyncReconciler} for every GitSync: on creation, on spec changes, on a sync
 * request (annotation), and every `spec.interval`. Keys are coalesced and never run twice at once;
 * a reconcile that throws is retried with backoff.
 *
 * @example
 *   const controller = new GitSyncController({ kube, cacheDir })
 *   await controller.start()
 *   ...
 *   await controller.stop()
 */
export class GitSyncController {
  readonly reconciler: GitSyncReconciler;
  readonly informer: Informer<Obj>;
  private readonly logger: Logger;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly waiters: (() => void)[] = [];
  private stopped = false;
  private workers: Promise<void>[] = [];

  constructor(private readonly options: GitSyncControllerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.reconciler = new GitSyncReconciler(options);
    this.informer = new Informer<Obj>(options.kube as KubeClient, { apiVersion: API_VERSION, kind: 'GitSync', ...(options.namespace ? { namespace: options.namespace } : {}), logger: this.logger });
    this.informer.on({
      add: (o) => this.enqueue(keyOf(o)),
      update: (o, old) => (o === old || wantsSync(o, old) ? this.enqueue(keyOf(o)) : undefined),
      delete: (o) => this.enqueue(keyOf(o)),
    });
  }

  async start(): Promise<void> {
    await this.informer.start();
    this.workers = Array.from({ length: this.options.workers ?? 2 }, () => this.work());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    await this.informer.stop();
    for (const wake of this.waiters.splice(0)) wake();
    await Promise.all(this.workers);
  }

  /** Syncs a GitSync as soon as a worker is free (in this process). */
  enqueue(key: string): void {
    if (this.stopped) return;
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (this.running.has(key)) return void this.dirty.add(key);
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.waiters.shift()?.();
  }

  private later(key: string, ms: number): void {
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => this.enqueue(key), ms);
    timer.unref();
    this.timers.set(key, timer);
  }

  private async work(): Promise<void> {
    while (!this.stopped) {
      const key = this.queue.shift();
      if (!key) {
        await new Promise<void>((resolve) => this.waiters.push(resolve));
        continue;
      }
      this.queued.delete(key);
      this.running.add(key);
      try {
        const result = await this.reconciler.reconcile(requestOf(key));
        this.backoffs.delete(key);
        if (result.requeueAfter) this.later(key, result.requeueAfter);
      } catch (err) {
        const backoff = this.backoffs.get(key) ?? new Backoff(500, 60_000);
        this.backoffs.set(key, backoff);
        this.logger.warn({ gitsync: key, err: messageOf(err) }, 'reconcile failed; retrying');
        this.later(key, backoff.next());
      } finally {
        this.running.delete(key);
        if (this.dirty.delete(key)) this.enqueue(key);
      }
    }
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}

function requestOf(key: string): ReconcileRequest {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
