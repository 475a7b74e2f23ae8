import { AsyncLocalStorage } from 'node:async_hooks';
import type { InformerHandlers, KubeObject } from '../kube/index.js';
import { messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import type { RuntimeMetrics } from './metrics.js';
import { KeyWork } from './key-work.js';
import { isReplay, type ObjectEvent, type Predicate } from './predicates.js';
import { WorkQueue, type BackoffOptions, type FreshWork, type Priority } from './queue.js';
import { isTerminal, keyOf, requestFor, requestOf, type Reconciler, type Request } from './reconciler.js';
import { groupOf } from '../lib/api-version.js';

/**
 * How long a low-priority key, and fresh work in every controller of the process, must have been
 * still before it may start, even on an idle controller: objects applied in the same go (an ordinary
 * AppConfig and its Component after 20 AppConfigs naming unserved kinds) arrive within this and go
 * first (issue 19, bench:unserved "ready"). Aged keys (5 s) go regardless.
 */
export const LOW_PRIORITY_DELAY_MS = 250;

const reconciling = new AsyncLocalStorage<{ key: string; mayWrite: () => boolean }>();

/**
 * The sharded reconcile running in the caller's async context (undefined outside one, or in a
 * controller whose work is not split): its key, and whether a write on its behalf may leave now
 * ({@link KeyOwnership.mayWrite}) — what the manager's write fence asks.
 */
export const shardedReconcile = () => reconciling.getStore();

/** Runs `fn` as work on behalf of `key`: the write fence asks `mayWrite` for it, not for the caller's key. */
export const onBehalfOf = <T>(key: string, mayWrite: () => boolean, fn: () => Promise<T>): Promise<T> =>
  reconciling.run({ key, mayWrite }, fn);

/** Which objects of one kind an informer holds. Equal specs share one informer in a manager. */
export interface WatchSpec {
  apiVersion: string;
  kind: string;
  /** @default all namespaces */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Turns an event of a watched kind into the requests to reconcile. */
export type MapFunction<T extends KubeObject = KubeObject> = (obj: T, event: ObjectEvent<T>) => Request[];

export interface WatchSource<T extends KubeObject = KubeObject> extends WatchSpec {
  /** Only events every predicate passes enqueue anything. @default none (every event) */
  predicates?: Predicate<T>[];
}

export interface ControllerOptions<T extends KubeObject = KubeObject> {
  /** Names the controller in logs and metrics, e.g. `applicationconfiguration`. */
  name: string;
  /** The kind this controller reconciles: an event enqueues the object's own key. */
  for: WatchSource<T>;
  /**
   * Kinds it creates: an event enqueues the object's controller (the owner reference with
   * `controller: true` whose kind is the `for` kind). More can be added while running with
   * {@link Controller.watchOwned}.
   */
  owns?: WatchSource[];
  /** Other kinds, mapped to requests by a function (e.g. a Component → every AppConfig using it). */
  watches?: (WatchSource & { map: MapFunction })[];
  reconciler: Reconciler;
  /**
   * The lane an event of the `for` kind queues the object in, when it is known to wait on something
   * outside it before any reconcile says so (see `Result.priority`); `undefined` keeps the
   * lane its last reconcile chose. @default none
   */
  priority?: (obj: T) => Priority | undefined;
  /** Reconciles running at once (never two of one key). @default the manager's concurrency */
  concurrency?: number;
  /** Per-key retry backoff after a failed reconcile. @default 100 ms doubling to 5 min */
  backoff?: BackoffOptions;
  /** Run only on the leader (when the manager elects one). @default true */
  needLeaderElection?: boolean;
}

/** What a controller subscribes to: an `Informer` from kube/, in practice. */
export interface EventSource<T extends KubeObject = KubeObject> {
  on(handlers: InformerHandlers<T>): unknown;
  /** Every object cached (to reconcile a whole shard when this replica takes it over). */
  list?(): T[];
}

/** Which keys this replica reconciles, when the work is split between replicas (see shards.ts). */
export interface KeyOwnership {
  owns(key: string): boolean;
  /** Whether a write for `key` may leave now (its shard surely still held). */
  mayWrite(key: string): boolean;
}

/** What a controller needs from its manager: shared informers and metrics. */
export interface ControllerHost {
  informer<O extends KubeObject>(spec: WatchSpec): EventSource<O>;
  /** Starts an informer added after the manager started; resolves when its first list is in. */
  ensureStarted(source: EventSource): Promise<void>;
  metrics: RuntimeMetrics;
  logger: Logger;
  concurrency: number;
  /** Set when keys are split between replicas: only owned keys are queued and reconciled. */
  shards?: KeyOwnership;
  /** Shared by the controllers of a process: their low-priority keys wait until none has fresh work. @default per controller */
  freshWork?: FreshWork;
}

/**
 * A work queue fed by informer events and drained by N workers calling one {@link Reconciler}.
 * Create controllers through `Manager.controller()`; the manager starts and stops them.
 */
export class Controller<T extends KubeObject = KubeObject> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly needLeaderElection: boolean;
  private readonly abort = new AbortController();
  private readonly workers: Promise<void>[] = [];
  private readonly logger: Logger;
  private readonly dynamicSources = new Set<string>();
  private readonly ownerGroup: string;
  private readonly forSource: EventSource<T>;
  /** Keys being reconciled now, and who waits for some of them to finish. */
  private readonly inflight = new KeyWork();
  /** Keys of shards taken over that have not reconciled successfully since ({@link requeue}). */
  private readonly takenOver = new Set<string>();
  private running = false;

  constructor(
    private readonly host: ControllerHost,
    private readonly options: ControllerOptions<T>,
  ) {
    this.name = options.name;
    this.needLeaderElection = options.needLeaderElection ?? true;
    this.logger = (host.logger ?? silentLogger).child({ controller: options.name });
    this.queue = new WorkQueue({
      ...(options.backoff ? { backoff: options.backoff } : {}),
      // Low-priority keys (known to wait) are background work, one at a time: fresh work always finds
      // a worker and shares the API server with at most one of them (issue 19, bench:unserved) — and
      // none starts until it and every controller's fresh work were still for LOW_PRIORITY_DELAY_MS.
      lowPriorityMaxActive: 1,
      lowPriorityDelayMs: LOW_PRIORITY_DELAY_MS,
      ...(host.freshWork ? { freshWork: host.freshWork } : {}),
      metrics: host.metrics.queueMetrics(options.name),
    });
    host.metrics.trackQueue(options.name, this.queue);
    this.ownerGroup = groupOf(options.for.apiVersion);
    this.forSource = host.informer<T>(options.for);
    const { priority } = options;
    this.source(
      options.for,
      (obj) => {
        const req = requestFor(obj);
        if (priority?.(obj) === 'low') this.queue.setPriority(keyOf(req), 'low');
        return [req];
      },
      this.forSource,
    );
    for (const owned of options.owns ?? []) this.watchOwned(owned);
    for (const w of options.watches ?? []) this.source(w, w.map);
  }

  /**
   * Watches another kind this controller creates; events enqueue the controlling owner. Safe to
   * call from a reconcile (e.g. the first time a template produces a new kind); calling it again
   * for the same spec does nothing. Resolves once that kind's informer has listed.
   */
  watchOwned(source: WatchSource): Promise<void> {
    return this.watch({ ...source, map: (obj) => this.ownerOf(obj) });
  }

  /**
   * Watches another kind, mapping its events to requests with `source.map`; like
   * {@link watchOwned}, callable while running and idempotent per spec (the first map wins).
   * Resolves once that kind's informer has listed.
   */
  watch(source: WatchSource & { map: MapFunction }): Promise<void> {
    const id = `${source.apiVersion}/${source.kind}/${source.namespace ?? ''}/${source.labelSelector ?? ''}/${source.fieldSelector ?? ''}`;
    const informer = this.host.informer(source);
    if (!this.dynamicSources.has(id)) {
      this.dynamicSources.add(id);
      this.source(source, source.map, informer);
    }
    return this.host.ensureStarted(informer);
  }

  /**
   * Adds a key by hand (e.g. from a timer or another controller). A key of a shard this replica does
   * not hold is dropped. `low`: background work that only looks (a periodic resync), queued behind
   * fresh work ({@link WorkQueue.add}). @default priority `normal`
   */
  enqueue(req: Request, priority: Priority = 'normal'): void {
    const key = keyOf(req);
    if (!this.mine(key)) return;
    this.queue.add(key, priority);
  }

  /**
   * Queues every cached object of the reconciled kind whose key passes `test` (a shard just taken
   * over). Until each has reconciled once, its context says `verify`: this replica's caches may not
   * have caught up yet with the last writes of the replica that held the shard.
   */
  requeue(test: (key: string) => boolean): void {
    for (const obj of this.forSource.list?.() ?? []) {
      const req = requestFor(obj);
      const key = keyOf(req);
      if (!test(key)) continue;
      this.takenOver.add(key);
      this.enqueue(req);
    }
  }

  /** Resolves once no key passing `test` is being reconciled (a shard being handed over). */
  drain(test: (key: string) => boolean): Promise<void> {
    return this.inflight.drain(test);
  }

  /** Whether this replica reconciles `key` (always, unless the work is sharded and the key's shard is not held). */
  private mine(key: string): boolean {
    return !this.host.shards || !this.needLeaderElection || this.host.shards.owns(key);
  }

  /** Starts the workers. Events were already being queued since construction. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const n = this.options.concurrency ?? this.host.concurrency;
    this.host.metrics.maxConcurrentReconciles.set({ controller: this.name }, n);
    for (let i = 0; i < n; i++) this.workers.push(this.work());
    this.logger.info({ workers: n }, 'controller started');
  }

  /**
   * Stops handing out keys, aborts the reconciles' signal, and waits for the running ones to
   * return (at most `graceMs`). Keys still queued are dropped: the next start re-lists anyway.
   */
  async stop(graceMs = 30_000): Promise<void> {
    this.queue.shutDown();
    this.abort.abort();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const result = await Promise.race([Promise.all(this.workers).then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (result === 'timeout')
      this.logger.warn({ graceMs, active: this.queue.active }, 'reconciles still running at shutdown');
    this.running = false;
  }

  private ownerOf(obj: KubeObject): Request[] {
    const ref = obj.metadata.ownerReferences?.find((r) => r.controller && r.kind === this.options.for.kind);
    if (!ref) return [];
    if (groupOf(ref.apiVersion) !== this.ownerGroup) return [];
    return [obj.metadata.namespace ? { namespace: obj.metadata.namespace, name: ref.name } : { name: ref.name }];
  }

  private source<O extends KubeObject>(source: WatchSource<O>, map: MapFunction<O>, informer?: EventSource<O>): void {
    const predicates = source.predicates ?? [];
    const handle = (event: ObjectEvent<O>) => {
      for (const p of predicates) {
        const verdict = p.check(event);
        if (!verdict.ok) {
          if (this.logger.isLevelEnabled('trace'))
            this.logger.trace(
              { kind: source.kind, name: event.object.metadata.name, reason: verdict.reason },
              'event skipped',
            );
          return;
        }
      }
      // A periodic resync (the same version again) only looks: it queues behind fresh work, so an
      // edit is not handed out after thousands of passes that find nothing to do.
      const priority = isReplay(event) ? 'low' : 'normal';
      for (const req of map(event.object, event)) this.enqueue(req, priority);
    };
    (informer ?? this.host.informer<O>(source)).on({
      add: (object) => handle({ type: 'add', object }),
      update: (object, old) => handle({ type: 'update', object, old }),
      delete: (object) => handle({ type: 'delete', object }),
    });
  }

  private async work(): Promise<void> {
    const { metrics } = this.host;
    const name = this.name;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (!this.mine(key)) {
        // Queued before its shard was handed over: the new holder reconciles it.
        this.queue.forget(key);
        this.takenOver.delete(key);
        this.queue.setPriority(key, 'normal');
        this.queue.done(key);
        continue;
      }
      this.inflight.start(key);
      const retries = this.queue.retries(key);
      const logger = this.logger.child({ key });
      const stopTimer = metrics.reconcileTime.startTimer({ controller: name });
      metrics.activeWorkers.inc({ controller: name });
      try {
        const verify = this.takenOver.has(key);
        const run = () =>
          this.options.reconciler.reconcile(
            { signal: this.abort.signal, logger, retries, ...(verify ? { verify } : {}) },
            requestOf(key),
          );
        const result = await (this.host.shards && this.needLeaderElection
          ? reconciling.run({ key, mayWrite: () => this.host.shards!.mayWrite(key) }, run)
          : run());
        this.queue.forget(key);
        this.takenOver.delete(key);
        this.queue.setPriority(key, result?.priority ?? 'normal');
        if (result?.requeueAfter && result.requeueAfter > 0) {
          this.queue.addAfter(key, result.requeueAfter);
          metrics.reconciles.inc({ controller: name, result: 'requeue_after' });
        } else {
          metrics.reconciles.inc({ controller: name, result: 'success' });
        }
      } catch (err) {
        this.queue.setPriority(key, 'normal');
        metrics.reconcileErrors.inc({ controller: name });
        if (isTerminal(err)) {
          this.queue.forget(key);
          metrics.terminalErrors.inc({ controller: name });
          metrics.reconciles.inc({ controller: name, result: 'error' });
          logger.error({ err: messageOf(err) }, 'reconcile failed; not retrying until the object changes');
        } else {
          metrics.reconciles.inc({ controller: name, result: 'error' });
          if (!this.abort.signal.aborted) {
            const retryInMs = this.queue.addRateLimited(key);
            logger.warn({ err: messageOf(err), retryInMs, retries: retries + 1 }, 'reconcile failed; retrying');
          }
        }
      } finally {
        stopTimer();
        metrics.activeWorkers.dec({ controller: name });
        this.inflight.end(key);
        this.queue.done(key);
      }
    }
  }
}
