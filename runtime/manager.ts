import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { compactForCache, Informer, waitForServer, type KubeClient, type KubeObject } from '../kube/index.js';
import { TrellisError, messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';
import {
  Controller,
  shardedReconcile,
  type ControllerHost,
  type ControllerOptions,
  type WatchSpec,
  onBehalfOf,
} from './controller.js';
import { EventRecorder } from './events.js';
import { KeyWork } from './key-work.js';
import { HealthServer } from './health-server.js';
import { DEFAULT_LEASE_NAME, LeaderElector, type LeaderElectionOptions } from './leader-election.js';
import { RuntimeMetrics, shardMetrics, type BuildInfo } from './metrics.js';
import { ShardCoordinator, ShardNotHeldError, shardOf, type ShardingOptions } from './shards.js';
import { FreshWork } from './queue.js';

/** A name for this replica, unique among replicas: `<hostname>_<8 random hex digits>`. */
export function replicaIdentity(): string {
  return `${os.hostname()}_${randomBytes(4).toString('hex')}`;
}

/** Something the manager starts and stops besides controllers (a timer loop, a server). */
export interface Runnable {
  name: string;
  /** Called once; `signal` aborts when it should stop. May return at once or run until aborted. */
  start(signal: AbortSignal): void | Promise<void>;
  /** Called at shutdown after `signal` aborted; wait here for in-flight work. */
  stop?(): Promise<void>;
  /** Run only while this replica leads. @default true */
  needLeaderElection?: boolean;
}

export interface ManagerOptions {
  kube: KubeClient;
  logger?: Logger;
  /** Workers per controller, unless the controller says otherwise. @default 4 */
  concurrency?: number;
  /** Elect a leader on a Lease; without it this replica always leads. With `sharding`, only runnables wait for it. */
  leaderElection?: Omit<LeaderElectionOptions, 'identity' | 'logger'>;
  /**
   * Split every controller's keys between the replicas (docs/adr/0009-sharded-controllers.md): each
   * replica reconciles only the keys of the shards it holds. Controllers then start at once on
   * every replica instead of on the leader. @default no sharding
   */
  sharding?: ShardingOptions;
  /** Serve `/healthz`, `/readyz`, `/metrics`. @default no server */
  server?: { host?: string; port: number };
  /** Informers replay every object this often, so missed work is redone. @default 600000 */
  resyncMs?: number;
  /**
   * What every informer cache keeps of each object; `null` keeps them whole. The default drops what
   * no controller reads from a cache — `managedFields`' field sets and the last-applied annotation —
   * a third of the cached bytes at scale: code that needs field sets reads the object from the API
   * server (kube's `hasFieldSets` tells). @default compactForCache (kube/cache-transform.ts)
   */
  cacheTransform?: ((obj: KubeObject) => KubeObject) | null;
  /** How long `stop()` waits for running reconciles. @default 30000 */
  gracefulShutdownMs?: number;
  /** How long `start()` waits for the first list of every informer. @default 120000 */
  cacheSyncTimeoutMs?: number;
  /** This replica, in leases and Events. @default `<hostname>_<random hex>` */
  identity?: string;
  /** `reportingController` of Events. @default 'trellis.dev/controller' */
  eventSource?: string;
  /** Called when leadership is lost (not on a graceful stop). The CLI exits so the pod restarts. */
  onLeadershipLost?: () => void;
  metrics?: RuntimeMetrics;
  /**
   * Before the informers start, wait until the API server answers — retrying with backoff and
   * logging each attempt as `waiting for the API server` — while /healthz is already served (so
   * an outage does not turn into a restart loop). {@link Manager.stop} ends the wait.
   * @default false (the informers retry on their own, and start() fails after cacheSyncTimeoutMs)
   */
  waitForServer?: boolean;
  /** What `trellis_build_info` reports (ignored with `metrics`). @default none (the metric is not exported) */
  build?: BuildInfo;
}

/**
 * Runs controllers: shared informers (one per kind and selector, however many controllers watch
 * it), leader election, the health/metrics server, an Event recorder, and graceful shutdown.
 * Nothing starts in the constructor; {@link start} does.
 *
 * @example
 *   const mgr = new Manager({ kube, logger, concurrency: 4, server: { port: 8081 },
 *     leaderElection: { namespace: 'trellis-system' } })
 *   const apps = mgr.informer<AppConfig>({ apiVersion: 'core.oam.dev/v1alpha2', kind: 'ApplicationConfiguration' })
 *   mgr.controller({ name: 'appconfig', for: { apiVersion: ..., kind: ... }, reconciler })
 *   await mgr.start()
 *   ...
 *   await mgr.stop()
 */
export class Manager {
  readonly kube: KubeClient;
  readonly metrics: RuntimeMetrics;
  readonly recorder: EventRecorder;
  readonly identity: string;
  readonly logger: Logger;
  private readonly informers = new Map<string, Informer>();
  private readonly controllers: Controller[] = [];
  /** The client of Lease traffic (leader election, shards): {@link kube} on a socket pool of its own. */
  private readonly leaseKube: KubeClient;
  /** Work done for keys by another controller's reconcile ({@link forKey}), drained on a hand-over like reconciles. */
  private readonly borrowed = new KeyWork();
  private readonly runnables: Runnable[] = [];
  private readonly abort = new AbortController();
  private leaderAbort = new AbortController();
  private elector: LeaderElector | undefined;
  private election: Promise<void> | undefined;
  private server: HealthServer | undefined;
  private unobserve: (() => void) | undefined;
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'lost' = 'new';
  private leading = false;
  private leadingWaiters: (() => void)[] = [];
  private readonly runnableTasks: Promise<void>[] = [];
  private readonly host: ControllerHost;
  /** Set with `sharding`: which shards this replica holds. */
  readonly shards: ShardCoordinator | undefined;
  /** Removes the write fence of sharded reconciles from the connection. */
  private unfence: (() => void) | undefined;

  constructor(private readonly options: ManagerOptions) {
    this.kube = options.kube;
    // Lease renewals on sockets of their own: a pool full of slow requests (bench:shards saw a
    // replica's LISTs hang 30 s) held them back until the Leases expired and another replica took over.
    this.leaseKube = options.kube.withOwnSockets();
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new RuntimeMetrics(options.build ? { build: options.build } : {});
    this.identity = options.identity ?? replicaIdentity();
    this.recorder = new EventRecorder({
      kube: this.kube,
      controller: options.eventSource ?? 'trellis.dev/controller',
      instance: this.identity,
      logger: this.logger,
    });
    if (options.sharding) {
      const shards = options.sharding.shards;
      const ofShard = (shard: number) => (key: string) => shardOf(key, shards) === shard;
      this.shards = new ShardCoordinator(
        this.leaseKube,
        { ...options.sharding, identity: this.identity, logger: this.logger },
        {
          acquired: (shard) => {
            this.metrics.shardTransitions.inc({ event: 'acquired' });
            for (const c of this.controllers) c.requeue(ofShard(shard));
          },
          releasing: async (shard) => {
            await Promise.all([
              ...this.controllers.map((c) => c.drain(ofShard(shard))),
              this.borrowed.drain(ofShard(shard)),
            ]);
            this.metrics.shardTransitions.inc({ event: 'released' });
          },
          lost: () => this.metrics.shardTransitions.inc({ event: 'lost' }),
        },
      );
      shardMetrics(this.metrics.registry, this.shards);
      // A reconcile still running when its shard is handed over or lost (a replica starved of CPU
      // misses its renewals) must not write any more: another replica may hold the shard by then.
      this.unfence = this.kube.connection.fence(({ method, path }) => {
        const reconcile = shardedReconcile();
        if (!reconcile || reconcile.mayWrite()) return;
        this.metrics.shardTransitions.inc({ event: 'write_refused' });
        throw new ShardNotHeldError(reconcile.key, shardOf(reconcile.key, shards), `${method} ${path}`);
      });
    }
    this.host = {
      informer: (spec) => this.informer(spec),
      ensureStarted: (source) => this.ensureStarted(source as Informer),
      metrics: this.metrics,
      logger: this.logger,
      concurrency: options.concurrency ?? 4,
      // One for all controllers: background work in one waits for fresh work in any (issue 19).
      freshWork: new FreshWork(),
      ...(this.shards ? { shards: this.shards } : {}),
    };
  }

  /** True while this replica leads (always, once started, without leader election). */
  get isLeader(): boolean {
    return this.leading;
  }

  /** The Lease leader election runs on (the `name` of `leader_election_master_status`). */
  private get leaseName(): string {
    return this.options.leaderElection?.name ?? DEFAULT_LEASE_NAME;
  }

  /** The port of the health/metrics server, once started. */
  get port(): number {
    return this.server?.port ?? 0;
  }

  /**
   * The shared informer for a kind (and namespace/selectors). Read from it in reconcilers instead
   * of calling the API server: it is what the controller was woken by.
   */
  informer<T extends KubeObject = KubeObject>(spec: WatchSpec): Informer<T> {
    const key = JSON.stringify([
      spec.apiVersion,
      spec.kind,
      spec.namespace ?? '',
      spec.labelSelector ?? '',
      spec.fieldSelector ?? '',
    ]);
    let informer = this.informers.get(key);
    if (!informer) {
      const transform = this.options.cacheTransform === undefined ? compactForCache : this.options.cacheTransform;
      informer = new Informer(this.kube, {
        ...spec,
        resyncMs: this.options.resyncMs ?? 600_000,
        logger: this.logger,
        ...(transform ? { transform } : {}),
      });
      this.informers.set(key, informer);
      if (this.state === 'starting' || this.state === 'running') void this.ensureStarted(informer).catch(() => {});
    }
    return informer as unknown as Informer<T>;
  }

  /** Creates a controller that the manager starts (when leading) and stops. */
  controller<T extends KubeObject = KubeObject>(options: ControllerOptions<T>): Controller<T> {
    if (this.state !== 'new') throw new Error(`manager: add controller "${options.name}" before start()`);
    const controller = new Controller<T>(this.host, options);
    this.controllers.push(controller as unknown as Controller);
    return controller;
  }

  /**
   * Runs `fn` for `key` from another key's reconcile — the AppConfig controller making a Component's
   * revision — as if it were `key`'s own reconcile: when sharded, only while this replica holds
   * `key`'s shard (else `undefined`, nothing run), with every write judged by the write fence for
   * `key`'s shard, and drained like `key`'s reconciles before that shard is handed over. Unsharded,
   * it just runs `fn`.
   *
   * @example
   *   const made = await mgr.forKey('shop/web', () => ensureRevision(web, o))
   *   if (!made) throw new RevisionPendingError('web') // the holder of its shard makes it
   */
  async forKey<T>(key: string, fn: () => Promise<T>): Promise<T | undefined> {
    const shards = this.shards;
    if (!shards) return fn();
    if (!shards.owns(key)) return undefined;
    return this.borrowed.run(key, () => onBehalfOf(key, () => shards.mayWrite(key), fn));
  }

  add(runnable: Runnable): void {
    if (this.state !== 'new') throw new Error(`manager: add runnable "${runnable.name}" before start()`);
    this.runnables.push(runnable);
  }

  /**
   * Starts the server, the informers (resolving once each has listed), then campaigns for
   * leadership in the background; controllers start when this replica leads.
   */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('manager: start() called twice');
    this.state = 'starting';
    this.unobserve = this.kube.connection.observe(this.metrics.observeRequest);
    if (this.options.server) {
      this.server = new HealthServer({
        ...this.options.server,
        registry: this.metrics.registry,
        healthz: { manager: () => (this.state === 'lost' ? 'leadership lost' : true) },
        readyz: {
          informers: () => this.unsynced() || true,
          manager: () => (this.state === 'running' ? true : this.state),
        },
      });
      await this.server.start();
    }
    if (this.options.waitForServer) await this.waitForServer();
    await this.waitForSync([...this.informers.values()]);
    for (const r of this.runnables) if (r.needLeaderElection === false) this.runRunnable(r, this.abort.signal);
    if (this.shards) {
      await this.shards.start();
      for (const c of this.controllers) c.start(); // each reconciles only the keys of the shards held
    }
    this.state = 'running';
    if (this.options.leaderElection) {
      this.metrics.leader.set({ name: this.leaseName }, 0);
      this.elector = new LeaderElector(this.leaseKube, {
        ...this.options.leaderElection,
        identity: this.identity,
        logger: this.logger,
      });
      this.election = this.elector.run(this.abort.signal, {
        onStartedLeading: () => this.startLeading(),
        onStoppedLeading: (reason) => void this.stopLeading(reason),
      });
    } else {
      this.startLeading();
    }
  }

  /** Resolves once this replica leads (or the manager stops). */
  waitForLeadership(): Promise<void> {
    if (this.leading || this.state === 'stopped') return Promise.resolve();
    return new Promise((resolve) => this.leadingWaiters.push(resolve));
  }

  /** Graceful shutdown: stop controllers (waiting for running reconciles), release the lease, stop informers and the server. */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.state = 'stopping';
    const grace = this.options.gracefulShutdownMs ?? 30_000;
    this.shards?.quiesce();
    await this.stopWork(grace);
    await this.shards?.stop(); // the controllers are stopped: hand every shard over
    this.unfence?.();
    this.abort.abort();
    await this.election;
    await Promise.all(
      this.runnables.map((r) =>
        r
          .stop?.()
          .catch((err: unknown) => this.logger.warn({ runnable: r.name, err: messageOf(err) }, 'runnable stop failed')),
      ),
    );
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.recorder.flush();
    await this.server?.stop();
    this.unobserve?.();
    this.leaseKube.connection.close();
    this.state = 'stopped';
    for (const w of this.leadingWaiters.splice(0)) w();
    this.logger.info({}, 'manager stopped');
  }

  private startLeading(): void {
    this.leading = true;
    if (this.options.leaderElection) this.metrics.leader.set({ name: this.leaseName }, 1);
    this.leaderAbort = new AbortController();
    if (!this.shards) {
      for (const c of this.controllers) if (c.needLeaderElection) c.start();
      for (const c of this.controllers) if (!c.needLeaderElection) c.start();
    }
    for (const r of this.runnables) if (r.needLeaderElection !== false) this.runRunnable(r, this.leaderAbort.signal);
    for (const w of this.leadingWaiters.splice(0)) w();
  }

  private async stopLeading(reason: 'lost' | 'stopped'): Promise<void> {
    this.leading = false;
    this.metrics.leader.set({ name: this.leaseName }, 0);
    if (reason !== 'lost') return;
    this.state = 'lost';
    this.logger.error({}, 'leadership lost: stopping all work');
    await this.stopWork(this.options.gracefulShutdownMs ?? 30_000);
    this.options.onLeadershipLost?.();
  }

  private async stopWork(graceMs: number): Promise<void> {
    this.leaderAbort.abort();
    await Promise.all(this.controllers.map((c) => c.stop(graceMs)));
    await Promise.all(this.runnableTasks);
  }

  private runRunnable(r: Runnable, signal: AbortSignal): void {
    const task = Promise.resolve()
      .then(() => r.start(signal))
      .catch((err: unknown) => this.logger.error({ runnable: r.name, err: messageOf(err) }, 'runnable failed'));
    this.runnableTasks.push(task);
  }

  private ensureStarted(informer: Informer): Promise<void> {
    if (this.state !== 'starting' && this.state !== 'running') return Promise.resolve();
    return informer.start();
  }

  private async waitForServer(): Promise<void> {
    const server = this.kube.connection.server.origin;
    const version = await waitForServer(this.kube, {
      signal: this.abort.signal,
      onWait: (attempt, retryInMs, err) =>
        this.logger.warn({ server, attempt, retryInMs, err: messageOf(err) }, 'waiting for the API server'),
    });
    this.logger.info({ server, version: version.gitVersion }, 'API server reachable');
  }

  private async waitForSync(informers: Informer[]): Promise<void> {
    const timeoutMs = this.options.cacheSyncTimeoutMs ?? 120_000;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const timeout = new Promise<'timeout' | 'stopped'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
      onAbort = () => resolve('stopped');
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
    const result = await Promise.race([
      Promise.all(informers.map((i) => this.ensureStarted(i))).then(() => 'synced' as const),
      timeout,
    ]);
    clearTimeout(timer);
    this.abort.signal.removeEventListener('abort', onAbort!);
    if (result === 'stopped')
      throw Object.assign(new Error('manager stopped while its informers listed'), { name: 'AbortError' });
    if (result === 'timeout') {
      const missing = this.unsynced();
      await this.stop();
      throw new TrellisError(
        'TRL_CONTROLLER_CACHE_SYNC',
        `informers did not list within ${timeoutMs / 1000} s: ${missing} (is the CRD installed, and may this identity list it?)`,
      );
    }
  }

  private unsynced(): string {
    return [...this.informers.values()]
      .filter((i) => !i.synced)
      .map((i) => `${i.options.kind}${i.options.namespace ? ` in ${i.options.namespace}` : ''}`)
      .join(', ');
  }
}
