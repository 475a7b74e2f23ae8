import { Backoff, sleep } from './backoff.js';
import type { KubeClient } from './client.js';
import { isGone, KubeApiError } from './errors.js';
import type { KubeObject } from './types.js';

/** The subset of a pino logger the informer writes to. */
export interface KubeLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface InformerOptions<T extends KubeObject = KubeObject> {
  apiVersion: string;
  kind: string;
  /** Watch one namespace. @default all namespaces */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every this many ms, `update(obj, obj)` fires for every object, so missed work is redone. 0 turns it off. @default 600000 */
  resyncMs?: number;
  /** Server-side watch timeout; a silent connection is dropped after this plus 30 s. @default 300 */
  watchTimeoutSeconds?: number;
  logger?: KubeLogger;
  /** Backoff between failed attempts. @default 200 ms doubling to 30 s */
  backoff?: { initialMs: number; maxMs: number };
  /**
   * Applied to every object listed or watched before it is cached and handed to handlers — to keep
   * less of each, e.g. {@link compactForCache}. Must not change identity or resourceVersion.
   * @default the objects as the API server sends them
   */
  transform?(obj: T): T;
}

export interface InformerHandlers<T extends KubeObject> {
  add?(obj: T): void;
  update?(obj: T, old: T): void;
  delete?(obj: T): void;
}

const keyOf = (obj: KubeObject): string =>
  obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : (obj.metadata.name ?? '');
const controllerUid = (obj: KubeObject): string | undefined =>
  obj.metadata.ownerReferences?.find((r) => r.controller)?.uid;

/**
 * A list + watch cache of one kind. It restarts the watch from the last resourceVersion when the
 * server ends it, re-lists on 410 Gone (emitting adds, updates and deletes for what changed in
 * between), reconnects with backoff when the API server is unreachable, and resyncs periodically.
 *
 * @example
 *   const deployments = new Informer(kube, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'ns' })
 *   deployments.on({ add: (d) => queue.add(d.metadata.name) })
 *   await deployments.start()   // resolves once the first list is in the cache
 */
export class Informer<T extends KubeObject = KubeObject> {
  private readonly store = new Map<string, T>();
  /** The cache indexed by the uid of each object's controlling owner (as client-go's controller-uid indexers). */
  private readonly byController = new Map<string, Map<string, T>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private resourceVersion: string | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private syncedResolve!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => (this.syncedResolve = resolve));
  private hasSynced = false;
  /** How many times the cache was rebuilt from a full list (the first list included). */
  relists = 0;
  /** Why the last list or watch failed, until a list succeeds again (e.g. `forbidden` while RBAC refuses it). */
  lastError: string | undefined;

  constructor(
    private readonly client: KubeClient,
    readonly options: InformerOptions<T>,
  ) {
    this.backoff = new Backoff(options.backoff?.initialMs ?? 200, options.backoff?.maxMs ?? 30_000);
  }

  on(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  /** Starts listing and watching; resolves when the first list is in the cache. */
  start(): Promise<void> {
    if (!this.loop) {
      this.loop = this.run();
      const resyncMs = this.options.resyncMs ?? 600_000;
      if (resyncMs > 0) {
        this.resyncTimer = setInterval(() => this.resync(), resyncMs);
        this.resyncTimer.unref();
      }
    }
    return this.syncedPromise;
  }

  get synced(): boolean {
    return this.hasSynced;
  }

  /** Stops watching; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.loop;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.store.values()];
  }

  /**
   * The cached objects whose controlling owner reference (`controller: true`) has `uid` — from an
   * index kept with the cache, so a lookup costs what it returns, not the size of the cache.
   *
   * @example
   *   replicaSets.controlledBy(deployment.metadata.uid!)   // the Deployment's ReplicaSets
   */
  controlledBy(uid: string): T[] {
    return [...(this.byController.get(uid)?.values() ?? [])];
  }

  private put(key: string, obj: T): void {
    this.drop(key);
    this.store.set(key, obj);
    const uid = controllerUid(obj);
    if (!uid) return;
    let owned = this.byController.get(uid);
    if (!owned) this.byController.set(uid, (owned = new Map()));
    owned.set(key, obj);
  }

  private drop(key: string): void {
    const old = this.store.get(key);
    if (!old) return;
    this.store.delete(key);
    const uid = controllerUid(old);
    const owned = uid ? this.byController.get(uid) : undefined;
    if (!owned) return;
    owned.delete(key);
    if (!owned.size) this.byController.delete(uid!);
  }

  /** Fires `update(obj, obj)` for everything in the cache. */
  resync(): void {
    for (const obj of this.store.values()) this.emit('update', obj, obj);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist(signal);
        if (signal.aborted) break;
        await this.watchOnce(signal);
        this.backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        this.lastError = String((err as Error)?.message ?? err);
        if (isGone(err)) {
          this.options.logger?.debug({ kind: this.options.kind, err: String(err) }, 'watch expired, re-listing');
          this.resourceVersion = undefined;
          continue;
        }
        // A client error other than 410 (the kind was removed, RBAC changed) will not heal by
        // watching again from the same point: list again after the backoff.
        if (err instanceof KubeApiError && err.statusCode < 500 && err.statusCode !== 429)
          this.resourceVersion = undefined;
        const delay = this.backoff.next();
        this.options.logger?.warn(
          { kind: this.options.kind, err: String((err as Error)?.message ?? err), retryInMs: delay },
          'watch failed, retrying',
        );
        await sleep(delay, signal);
      }
    }
  }

  private async relist(signal: AbortSignal): Promise<void> {
    const { apiVersion, kind, namespace, labelSelector, fieldSelector } = this.options;
    const result = await this.client.list<T>(apiVersion, kind, {
      signal,
      ...(namespace ? { namespace } : {}),
      ...(labelSelector ? { labelSelector } : {}),
      ...(fieldSelector ? { fieldSelector } : {}),
    });
    this.relists++;
    this.lastError = undefined;
    const seen = new Set<string>();
    const transform = this.options.transform;
    for (const item of result.items) {
      const obj = transform ? transform(item) : item;
      const key = keyOf(obj);
      seen.add(key);
      const old = this.store.get(key);
      this.put(key, obj);
      if (!old) this.emit('add', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('update', obj, old);
    }
    for (const [key, old] of [...this.store]) {
      if (!seen.has(key)) {
        this.drop(key);
        this.emit('delete', old);
      }
    }
    this.resourceVersion = result.resourceVersion;
    if (!this.hasSynced) {
      this.hasSynced = true;
      this.syncedResolve();
    }
  }

  private async watchOnce(outer: AbortSignal): Promise<void> {
    const { apiVersion, kind, namespace, labelSelector, fieldSelector } = this.options;
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300;
    const local = new AbortController();
    const onOuterAbort = () => local.abort();
    // An AbortSignal tells only listeners present when it aborts: one aborted already ends this now.
    if (outer.aborted) return;
    outer.addEventListener('abort', onOuterAbort, { once: true });
    // The server ends the watch after timeoutSeconds; a connection silent for longer is dead.
    let lastActivity = Date.now();
    const watchdog = setInterval(() => {
      if (Date.now() - lastActivity > (timeoutSeconds + 30) * 1000) local.abort();
    }, 5_000);
    watchdog.unref();
    try {
      await this.client.watch<T>(
        apiVersion,
        kind,
        {
          resourceVersion: this.resourceVersion,
          timeoutSeconds,
          signal: local.signal,
          ...(namespace ? { namespace } : {}),
          ...(labelSelector ? { labelSelector } : {}),
          ...(fieldSelector ? { fieldSelector } : {}),
        },
        (event) => {
          lastActivity = Date.now();
          const rv = event.object.metadata?.resourceVersion;
          if (rv) this.resourceVersion = rv;
          if (event.type === 'BOOKMARK') return;
          const obj = this.options.transform ? this.options.transform(event.object) : event.object;
          const key = keyOf(obj);
          const old = this.store.get(key);
          if (event.type === 'DELETED') {
            this.drop(key);
            this.emit('delete', obj);
          } else {
            this.put(key, obj);
            if (old) this.emit('update', obj, old);
            else this.emit('add', obj);
          }
        },
      );
    } finally {
      clearInterval(watchdog);
      outer.removeEventListener('abort', onOuterAbort);
    }
  }

  private emit(type: 'add' | 'update' | 'delete', obj: T, old?: T): void {
    for (const h of this.handlers) {
      try {
        if (type === 'add') h.add?.(obj);
        else if (type === 'update') h.update?.(obj, old ?? obj);
        else h.delete?.(obj);
      } catch (err) {
        this.options.logger?.warn({ kind: this.options.kind, err: String(err) }, 'informer handler threw');
      }
    }
  }
}
