import {
  isAlreadyExists,
  isConflict,
  LeaseLock,
  microTime,
  sleep,
  type KubeClient,
  type LeaseObject,
  type LeaseRecord,
} from '../kube/index.js';
import { messageOf } from '../lib/errors.js';
import { silentLogger, type Logger } from '../lib/log.js';

/** The Lease name when none is given. */
export const DEFAULT_LEASE_NAME = 'trellis-controller';

export interface LeaderElectionOptions {
  /** Namespace of the Lease. */
  namespace: string;
  /** Name of the Lease. @default 'trellis-controller' */
  name?: string;
  /** This replica's identity, unique among replicas. @default `<hostname>_<random>` (set by the manager) */
  identity: string;
  /** How long a lease is valid after its last renewal; a standby takes over only after this. @default 15000 */
  leaseDurationMs?: number;
  /** The leader steps down when it could not renew for this long. Must be < leaseDurationMs. @default 10000 */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. @default 2000 */
  retryPeriodMs?: number;
  /** On a graceful stop, hand the lease over at once instead of letting it expire. @default true */
  releaseOnStop?: boolean;
  logger?: Logger;
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, with client-go's rules:
 *
 * - a candidate takes the lease when it is free, released, or its record has not changed for
 *   `leaseDurationMs` *as observed on the candidate's own clock* (no clock-skew assumptions);
 * - the leader renews every `retryPeriodMs`; if it cannot renew for `renewDeadlineMs` it stops
 *   leading — before any standby may take over, since `renewDeadlineMs < leaseDurationMs`;
 * - every write is a compare-and-swap on the Lease's resourceVersion, so two candidates never
 *   both succeed.
 *
 * @example
 *   const elector = new LeaderElector(kube, { namespace: 'trellis-system', identity: 'pod-a' })
 *   await elector.run(signal, { onStartedLeading: () => startWork(), onStoppedLeading: () => stopWork() })
 */
export class LeaderElector {
  readonly identity: string;
  private readonly lock: LeaseLock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly logger: Logger;
  private observed: { key: string; at: number } | undefined;
  private current: LeaseObject | undefined;
  private leading = false;

  constructor(
    kube: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.identity = options.identity;
    this.lock = new LeaseLock(kube, { namespace: options.namespace, name: options.name ?? DEFAULT_LEASE_NAME });
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs)
      throw new Error(
        `leader election: renewDeadlineMs (${this.renewDeadlineMs}) must be less than leaseDurationMs (${this.leaseDurationMs})`,
      );
    this.logger = (options.logger ?? silentLogger).child({
      lease: `${options.namespace}/${this.lock.name}`,
      identity: this.identity,
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Campaigns until elected, calls `onStartedLeading`, renews until the signal aborts (then
   * releases the lease) or renewal fails for `renewDeadlineMs` (then calls `onStoppedLeading`).
   * Resolves when it no longer leads.
   */
  async run(
    signal: AbortSignal,
    callbacks: { onStartedLeading(): void; onStoppedLeading(reason: 'lost' | 'stopped'): void },
  ): Promise<void> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) await sleep(this.retryPeriodMs, signal);
    if (signal.aborted) return;
    this.leading = true;
    this.logger.info({}, 'became leader');
    callbacks.onStartedLeading();
    let lastRenew = Date.now();
    while (!signal.aborted) {
      await sleep(this.retryPeriodMs, signal);
      if (signal.aborted) break;
      if (await this.tryAcquireOrRenew(true)) {
        lastRenew = Date.now();
        continue;
      }
      if (this.current?.spec?.holderIdentity && this.current.spec.holderIdentity !== this.identity) {
        this.logger.warn({ holder: this.current.spec.holderIdentity }, 'lease taken by another replica');
        break;
      }
      if (Date.now() - lastRenew >= this.renewDeadlineMs) {
        this.logger.warn({ renewDeadlineMs: this.renewDeadlineMs }, 'could not renew the lease in time');
        break;
      }
    }
    this.leading = false;
    if (signal.aborted) {
      if (this.options.releaseOnStop ?? true) await this.release();
      callbacks.onStoppedLeading('stopped');
    } else {
      callbacks.onStoppedLeading('lost');
    }
  }

  /** One attempt: `true` when this replica holds the lease afterwards. */
  async tryAcquireOrRenew(renewing = false): Promise<boolean> {
    const now = Date.now();
    const mine = (acquireTime: string, transitions: number): LeaseRecord => ({
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime,
      renewTime: microTime(new Date(now)),
      leaseTransitions: transitions,
    });
    try {
      const lease = await this.lock.get();
      if (!lease) {
        this.current = await this.lock.create(mine(microTime(new Date(now)), 0));
        this.observe(this.current, now);
        return true;
      }
      this.current = lease;
      this.observe(lease, now);
      const record = lease.spec ?? {};
      const held = !!record.holderIdentity;
      if (held && record.holderIdentity !== this.identity && now - this.observed!.at < this.leaseDurationMs)
        return false;
      if (!held || record.holderIdentity !== this.identity) {
        if (renewing) return false; // someone else holds or released it while we thought we led
        this.current = await this.lock.update(
          lease,
          mine(microTime(new Date(now)), (record.leaseTransitions ?? 0) + 1),
        );
      } else {
        this.current = await this.lock.update(
          lease,
          mine(record.acquireTime ?? microTime(new Date(now)), record.leaseTransitions ?? 0),
        );
      }
      this.observe(this.current, now);
      return true;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) return false;
      this.logger.warn({ err: messageOf(err) }, 'lease request failed');
      return false;
    }
  }

  /** Gives the lease up (holder cleared, 1 s duration) so a standby takes over at its next attempt. */
  private async release(): Promise<void> {
    const lease = this.current;
    if (!lease || lease.spec?.holderIdentity !== this.identity) return;
    try {
      await this.lock.update(lease, {
        ...lease.spec,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: microTime(),
      });
      this.logger.info({}, 'released the lease');
    } catch (err) {
      this.logger.warn({ err: messageOf(err) }, 'could not release the lease; it expires on its own');
    }
  }

  private observe(lease: LeaseObject, now: number): void {
    const key = `${lease.metadata.resourceVersion}`;
    if (this.observed?.key !== key) this.observed = { key, at: now };
  }
}
