import {
  Informer,
  isAlreadyExists,
  isConflict,
  isNotFound,
  LeaseLock,
  microTime,
  sleep,
  type KubeClient,
  type LeaseObject,
  type LeaseRecord,
} from '../kube/index.js';
import { messageOf } from '../lib/errors.js';
import { fnv32a } from '../lib/hash.js';
import { silentLogger, type Logger } from '../lib/log.js';

/** Label on every Lease of one sharded controller group (its value: the group's name). */
export const LABEL_SHARD_GROUP = 'trellis.dev/shard-group';
/** Label saying what a Lease of the group is: `shard`, `member` or `config`. */
export const LABEL_SHARD_ROLE = 'trellis.dev/shard-role';
/** Annotation on the group's Leases: the shard count the writer runs with. */
export const ANNOTATION_SHARDS = 'trellis.dev/shards';

export interface ShardingOptions {
  /** Namespace of the Leases. */
  namespace: string;
  /** The group: Leases are `<name>-shard-<i>`, `<name>-member-<replica>` and `<name>-config`. @default 'trellis-controller' */
  name?: string;
  /** Shards the keys are split into; each is a Lease one replica holds at a time. Every replica of a group must agree. */
  shards: number;
  /** A shard whose Lease was not renewed for this long (on the observer's clock) is taken over. @default 15000 */
  leaseDurationMs?: number;
  /** A replica that could not renew a shard for this long stops reconciling it. Must be < leaseDurationMs. @default 10000 */
  renewDeadlineMs?: number;
  /** Time between renewals. @default 2000 */
  retryPeriodMs?: number;
  /**
   * This replica's clock in ms, for every judgement of time (renewals, expiry, Lease timestamps).
   * Tests drive it to show what happens at a given moment. @default Date.now
   */
  clock?: () => number;
}

/** What the coordinator tells its manager. */
export interface ShardHooks {
  /** This replica now holds `shard`: reconcile every key of it. */
  acquired(shard: number): void;
  /** This replica is giving `shard` up: stop handing out its keys; resolve once none is being reconciled. */
  releasing(shard: number): Promise<void>;
  /** `shard` was lost without a handover (renewal failed, or another replica took it): its keys are no longer handed out. */
  lost(shard: number): void;
}

/** Who holds what, as one replica sees it (`trellis status`, `/metrics`). */
export interface ShardView {
  shards: number;
  /** Holder of each shard (`''` when free). */
  holders: string[];
  /** Live replicas of the group, this one included. */
  replicas: string[];
}

/** The shard a queue key (`namespace/name`) belongs to: FNV-1a of the key modulo the shard count. */
export function shardOf(key: string, shards: number): number {
  return fnv32a(key) % shards;
}

/** A write refused because the key's shard is no longer surely held (see {@link ShardCoordinator.mayWrite}). */
export class ShardNotHeldError extends Error {
  constructor(
    readonly key: string,
    readonly shard: number,
    request: string,
  ) {
    super(`${request} for ${key} refused: shard ${shard} is handed over or lost`);
    this.name = 'ShardNotHeldError';
  }
}

/** Lease names are DNS subdomains: a replica identity like `host_1a2b` becomes `host-1a2b`. */
const dns = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'x';
export const shardLeaseName = (group: string, shard: number) => `${group}-shard-${shard}`;
const memberLeaseName = (group: string, identity: string) => `${group}-member-${dns(identity)}`.slice(0, 253);
const configLeaseName = (group: string) => `${group}-config`;

interface Held {
  lock: LeaseLock;
  lease: LeaseObject;
  renewedAt: number;
  /** Being handed over: renewed, but its keys are no longer handed out. */
  releasing?: boolean;
  /** Writes of this Lease, one after another (a renewal and the release must not race). */
  writes?: Promise<unknown>;
}

/**
 * Splits a controller's keys between replicas: the key space is cut into `shards` shards
 * ({@link shardOf}), each a `coordination.k8s.io/v1` Lease that one replica holds at a time, with
 * leader election's rules per Lease (take over only after `leaseDurationMs` without a renewal on
 * one's own clock; stop after `renewDeadlineMs` without one; every write a compare-and-swap). Live
 * replicas announce themselves with a member Lease each, and every replica holds about
 * `shards / replicas` of them: a newcomer gets shards handed over (drained first, then released),
 * a dead replica's shards are taken over once its Leases expire. A config Lease records the shard
 * count the group runs with, so replicas started with another count wait until the old group is
 * gone instead of splitting the keys two ways at once.
 *
 * @example
 *   const shards = new ShardCoordinator(kube, { namespace: 'trellis-system', shards: 12, identity: 'pod-a' }, hooks)
 *   await shards.start()
 *   if (shards.owns('shop/web')) ...
 *   await shards.stop()   // after the controllers stopped: releases every shard
 */
export class ShardCoordinator {
  readonly shards: number;
  readonly group: string;
  private readonly view: Informer<LeaseObject>;
  /** When each Lease's resourceVersion was last seen to change, on this replica's clock. */
  private readonly seen = new Map<string, { rv: string; at: number }>();
  private readonly held = new Map<number, Held>();
  private readonly active = new Set<number>();
  private member: Held | undefined;
  private readonly leaseMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly clock: () => number;
  private readonly logger: Logger;
  private readonly meta: { labels: Record<string, string>; annotations: Record<string, string> };
  private configRenewedAt = 0;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private stopping = false;

  constructor(
    private readonly kube: KubeClient,
    private readonly options: ShardingOptions & { identity: string; logger?: Logger },
    private readonly hooks: ShardHooks,
  ) {
    if (!Number.isInteger(options.shards) || options.shards < 1)
      throw new Error(`sharding: shards must be a whole number ≥ 1, got ${options.shards}`);
    this.shards = options.shards;
    this.group = options.name ?? 'trellis-controller';
    this.leaseMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryMs = options.retryPeriodMs ?? 2_000;
    this.clock = options.clock ?? Date.now;
    if (this.renewDeadlineMs >= this.leaseMs)
      throw new Error(
        `sharding: renewDeadlineMs (${this.renewDeadlineMs}) must be less than leaseDurationMs (${this.leaseMs})`,
      );
    this.logger = (options.logger ?? silentLogger).child({ shardGroup: this.group, identity: options.identity });
    this.view = new Informer<LeaseObject>(kube, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: options.namespace,
      labelSelector: `${LABEL_SHARD_GROUP}=${this.group}`,
      resyncMs: 0,
    });
    this.meta = {
      labels: { [LABEL_SHARD_GROUP]: this.group },
      annotations: { [ANNOTATION_SHARDS]: String(this.shards) },
    };
  }

  get identity(): string {
    return this.options.identity;
  }

  /** Whether this replica reconciles `key` now (it holds the key's shard and is not handing it over). */
  owns(key: string): boolean {
    return this.active.has(shardOf(key, this.shards));
  }

  /**
   * Whether a write on behalf of `key` may leave now: its shard is held and not being handed over,
   * and its Lease was renewed less than `renewDeadlineMs` ago on this replica's clock — others take
   * a shard over only `leaseDurationMs` after the last renewal they saw, so none can hold it yet.
   */
  mayWrite(key: string, now = this.clock()): boolean {
    const shard = shardOf(key, this.shards);
    const h = this.held.get(shard);
    return !!h && this.active.has(shard) && now - h.renewedAt < this.renewDeadlineMs;
  }

  /** Shards whose keys this replica reconciles now. */
  ownedShards(): number[] {
    return [...this.active].sort((a, b) => a - b);
  }

  /** Holders and live replicas as this replica last saw them. */
  snapshot(now = this.clock()): ShardView {
    const holders = Array.from({ length: this.shards }, (_, i) => {
      if (this.held.has(i)) return this.identity;
      const lease = this.view.get(shardLeaseName(this.group, i), this.options.namespace);
      return lease && this.fresh(lease, now) ? (lease.spec?.holderIdentity ?? '') : '';
    });
    return { shards: this.shards, holders, replicas: this.liveMembers(now) };
  }

  /**
   * Watches the group's Leases (resolves once they are listed), then keeps holding a fair share of
   * shards in the background until {@link stop}.
   */
  async start(): Promise<void> {
    if (this.running) return;
    await this.view.start();
    const signal = this.abort.signal;
    const checkMs = Math.max(50, Math.min(500, this.retryMs / 2));
    this.running = (async () => {
      while (!signal.aborted) {
        try {
          await this.tick(this.clock());
        } catch (err) {
          this.logger.warn({ err: messageOf(err) }, 'shard coordination failed; retrying');
        }
        await sleep(checkMs, signal);
      }
    })();
  }

  /** Takes no more shards; those held are still renewed (call this before stopping the controllers). */
  quiesce(): void {
    this.stopping = true;
  }

  /**
   * Hands every shard back (call after the controllers stopped, so none of their keys is being
   * reconciled) and removes this replica's member Lease; then stops watching.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.running?.catch(() => undefined);
    for (const shard of [...this.held.keys()]) {
      this.active.delete(shard);
      await this.release(shard);
    }
    if (this.member) await this.member.lock.delete(this.member.lease).catch(() => undefined);
    this.member = undefined;
    // The last replica of its group leaving: a group with another shard count may start at once.
    const config = this.view.get(configLeaseName(this.group), this.options.namespace);
    if (config?.spec?.holderIdentity === `shards=${this.shards}` && this.liveMembers(this.clock()).length === 1) {
      const lock = new LeaseLock(this.kube, { namespace: this.options.namespace, name: config.metadata.name! });
      await this.write(lock, config, {
        ...config.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(new Date(this.clock())),
      });
    }
    await this.view.stop();
  }

  /** One round: observe, renew, then acquire or hand over shards toward a fair share. */
  async tick(now: number): Promise<void> {
    for (const lease of this.view.list()) this.changedAt(lease, now);
    await this.keepMember(now);
    if (!(await this.keepConfig(now))) {
      for (const shard of [...this.held.keys()]) this.lose(shard, 'the group runs with another shard count');
      return;
    }
    // All at once: one after another, a replica holding many shards behind a slow API server renews
    // the last one a whole round late, and loses it while its reconciles are still writing.
    await Promise.all(
      [...this.held].map(async ([shard, h]) => {
        if (now - h.renewedAt < this.retryMs) return;
        const renewed = await this.serial(h, () => this.write(h.lock, h.lease, this.record(now, h.lease.spec)));
        if (this.held.get(shard) !== h) return; // released meanwhile
        if (renewed === 'conflict') this.lose(shard, 'another replica took it');
        else if (renewed) Object.assign(h, { lease: renewed, renewedAt: now });
        else if (now - h.renewedAt >= this.renewDeadlineMs)
          this.lose(shard, `not renewed for ${this.renewDeadlineMs} ms`);
      }),
    );
    if (!this.stopping) await this.balance(now);
    this.cleanUpMembers(now);
  }

  private async balance(now: number): Promise<void> {
    const replicas = this.liveMembers(now);
    const floor = Math.floor(this.shards / replicas.length);
    const ceil = Math.ceil(this.shards / replicas.length);
    const holders = this.snapshot(now).holders;
    const count = (id: string) => holders.filter((h) => h === id).length;
    const mine = [...this.held.entries()].filter(([, h]) => !h.releasing).map(([s]) => s);
    const score = (shard: number) => fnv32a(`${this.identity}/${shard}`);
    const starving = replicas.some((r) => r !== this.identity && count(r) < floor);
    if (mine.length > ceil || (mine.length === ceil && ceil > floor && starving)) {
      const shard = mine.sort((a, b) => score(a) - score(b))[0]!;
      this.handOver(shard);
      return;
    }
    // Each free shard with the version of its Lease that showed it free: the write is a compare-and-swap on exactly that.
    const free = holders
      .flatMap((h, shard) =>
        h === '' ? [{ shard, lease: this.view.get(shardLeaseName(this.group, shard), this.options.namespace) }] : [],
      )
      .filter(({ lease }) => !lease || !this.fresh(lease, now))
      .sort((a, b) => score(b.shard) - score(a.shard));
    let room = ceil - mine.length;
    for (const { shard, lease } of free) {
      // Beyond a fair share only what nobody took for a while: keys of a dead replica must not wait for balance.
      if (room <= 0 && now - this.freeSince(shard, now) < 2 * this.retryMs) continue;
      if (await this.acquire(shard, lease, now)) room--;
    }
  }

  /** Takes `shard` if its Lease is still `current` (absent: creates it; either fails when someone was first). */
  private async acquire(shard: number, current: LeaseObject | undefined, now: number): Promise<boolean> {
    const name = shardLeaseName(this.group, shard);
    const lock = new LeaseLock(this.kube, { namespace: this.options.namespace, name });
    const record: LeaseRecord = {
      ...this.record(now),
      acquireTime: microTime(new Date(now)),
      leaseTransitions: (current?.spec?.leaseTransitions ?? 0) + (current ? 1 : 0),
    };
    const lease = current
      ? await this.write(lock, current, record)
      : await lock
          .create(record, this.roleMeta('shard'))
          .catch((err: unknown) => (isAlreadyExists(err) ? undefined : Promise.reject(err)));
    if (!lease || lease === 'conflict') return false;
    this.held.set(shard, { lock, lease, renewedAt: now });
    this.active.add(shard);
    this.logger.info({ shard }, 'acquired shard');
    this.hooks.acquired(shard);
    return true;
  }

  /** Stops handing out the shard's keys, waits for its running reconciles, then releases its Lease (renewed meanwhile). */
  private handOver(shard: number): void {
    const h = this.held.get(shard);
    if (!h || h.releasing) return;
    h.releasing = true;
    this.active.delete(shard);
    this.logger.info({ shard }, 'handing shard over');
    void this.hooks
      .releasing(shard)
      .then(() => this.release(shard))
      .catch((err: unknown) =>
        this.logger.warn({ shard, err: messageOf(err) }, 'shard hand-over failed; it expires on its own'),
      );
  }

  private async release(shard: number): Promise<void> {
    const h = this.held.get(shard);
    if (!h) return;
    await this.serial(h, () =>
      this.write(h.lock, h.lease, {
        ...h.lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(new Date(this.clock())),
      }),
    );
    if (this.held.get(shard) === h) this.held.delete(shard);
    this.logger.info({ shard }, 'released shard');
  }

  private serial<T>(h: Held, write: () => Promise<T>): Promise<T> {
    const next = (h.writes ?? Promise.resolve()).then(write, write);
    h.writes = next.catch(() => undefined);
    return next;
  }

  private lose(shard: number, why: string): void {
    this.held.delete(shard);
    if (!this.active.delete(shard)) return;
    this.logger.warn({ shard, why }, 'lost shard');
    this.hooks.lost(shard);
  }

  /**
   * The config Lease names the shard count of the group acting now. Kept fresh by any one of its
   * replicas; taken over by a replica with another count only once nobody renewed it for a lease
   * duration. False while this replica must not hold shards.
   */
  private async keepConfig(now: number): Promise<boolean> {
    const name = configLeaseName(this.group);
    const tag = `shards=${this.shards}`;
    const lease = this.view.get(name, this.options.namespace);
    const ours = lease?.spec?.holderIdentity === tag;
    if (lease && !ours && this.fresh(lease, now)) return false; // another shard count acts: wait until it is gone
    // Any replica of the group renewing it keeps it: the last change seen with our count is a renewal.
    const lastRenewal = Math.max(this.configRenewedAt, ours && lease ? this.changedAt(lease, now) : 0);
    if (ours && now - lastRenewal < this.retryMs) return true;
    const lock = new LeaseLock(this.kube, { namespace: this.options.namespace, name });
    const record = { ...this.record(now, lease?.spec), holderIdentity: tag };
    const written = lease
      ? await this.write(lock, lease, record)
      : await lock.create(record, this.roleMeta('config')).catch(() => undefined);
    if (written && written !== 'conflict') {
      this.configRenewedAt = now;
      return true;
    }
    return ours && now - lastRenewal < this.renewDeadlineMs;
  }

  /** Creates or renews this replica's member Lease. */
  private async keepMember(now: number): Promise<void> {
    const h = this.member;
    if (h && now - h.renewedAt < this.retryMs) return;
    const name = memberLeaseName(this.group, this.identity);
    const lock = h?.lock ?? new LeaseLock(this.kube, { namespace: this.options.namespace, name });
    const current = h?.lease ?? this.view.get(name, this.options.namespace);
    const record = this.record(now, current?.spec);
    const lease = current
      ? await this.write(lock, current, record)
      : await lock.create(record, this.roleMeta('member')).catch(() => undefined);
    if (lease === 'conflict')
      this.member = undefined; // read it again from the view next time
    else if (lease) this.member = { lock, lease, renewedAt: now };
  }

  /** A compare-and-swap write: the Lease, `'conflict'` when it changed meanwhile (or is gone), undefined on other failures. */
  private async write(
    lock: LeaseLock,
    previous: LeaseObject,
    record: LeaseRecord,
  ): Promise<LeaseObject | 'conflict' | undefined> {
    try {
      return await lock.update(
        previous,
        record,
        this.roleMeta(previous.metadata.labels?.[LABEL_SHARD_ROLE] ?? 'shard'),
      );
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return 'conflict';
      this.logger.warn({ lease: lock.name, err: messageOf(err) }, 'lease write failed');
      return undefined;
    }
  }

  private record(now: number, previous?: LeaseRecord): LeaseRecord {
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      acquireTime: previous?.acquireTime ?? microTime(new Date(now)),
      renewTime: microTime(new Date(now)),
      leaseTransitions: previous?.leaseTransitions ?? 0,
    };
  }

  private roleMeta(role: string) {
    return { labels: { ...this.meta.labels, [LABEL_SHARD_ROLE]: role }, annotations: this.meta.annotations };
  }

  /**
   * When this version of the Lease was first seen, on this replica's clock. A version not seen
   * before counts from the clock's now — whatever a judgement is about is judged on the very version it reads
   * (a version that arrived after the last look is a change just made, never an old one).
   */
  private changedAt(lease: LeaseObject, now: number): number {
    const name = lease.metadata.name!;
    const rv = lease.metadata.resourceVersion ?? '';
    const seen = this.seen.get(name);
    if (seen?.rv === rv) return seen.at;
    // The clock now, not the round's `now`: a version that arrived while a slow round awaited its
    // writes, recorded at the round's start, would look seconds older than it is at the next round —
    // and a live replica's shard would be taken over before a full lease duration (bench:shards).
    const at = Math.max(now, this.clock());
    this.seen.set(name, { rv, at });
    return at;
  }

  /** Held by someone and renewed within a lease duration, on this replica's clock. */
  private fresh(lease: LeaseObject, now: number): boolean {
    if (!lease.spec?.holderIdentity) return false;
    return now - this.changedAt(lease, now) < this.leaseMs;
  }

  /** Since when a free shard has been free (released: since it was seen so; expired: since it expired). */
  private freeSince(shard: number, now: number): number {
    const name = shardLeaseName(this.group, shard);
    const lease = this.view.get(name, this.options.namespace);
    if (!lease) return now;
    const at = this.changedAt(lease, now);
    return lease.spec?.holderIdentity ? at + this.leaseMs : at;
  }

  /** Replicas of this group (same shard count) whose member Lease is fresh, this one included, sorted. */
  private liveMembers(now: number): string[] {
    const members = this.view
      .list()
      .filter(
        (l) =>
          l.metadata.labels?.[LABEL_SHARD_ROLE] === 'member' &&
          l.metadata.annotations?.[ANNOTATION_SHARDS] === String(this.shards) &&
          this.fresh(l, now),
      )
      .map((l) => l.spec!.holderIdentity!);
    return [...new Set([this.identity, ...members])].sort();
  }

  /** Member Leases of replicas gone for a while are deleted (each pod start leaves one behind). */
  private cleanUpMembers(now: number): void {
    for (const lease of this.view.list()) {
      if (lease.metadata.labels?.[LABEL_SHARD_ROLE] !== 'member' || lease.spec?.holderIdentity === this.identity)
        continue;
      if (now - this.changedAt(lease, now) < 4 * this.leaseMs) continue;
      void new LeaseLock(this.kube, { namespace: this.options.namespace, name: lease.metadata.name! })
        .delete(lease)
        .catch(() => undefined);
    }
  }
}
