import { LeaseLock, sleep, type KubeClient } from '../../kube/index.js';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { Activator } from '../activator/activator.js';
import type { Membership } from './membership.js';
import type { PeerClient } from './peer-client.js';

export interface ActivationRelayOptions {
  activator: Activator;
  kube: KubeClient;
  /** The runtime's leader Lease: its holder runs the autoscaler. */
  leaderLease: { namespace: string; name: string };
  isLeader: () => boolean;
  membership: Membership;
  client: PeerClient;
  /** Between attempts while requests still wait. @default 250 */
  retryMs?: number;
  logger?: Logger;
}

/**
 * On a replica that does not lead: requests held at zero here must still start an instance at
 * once, but only the leader's autoscaler writes replicas (so scale-ups and drains stay in one
 * serialized chain). This passes the activator's "scale me up" to the leader's peer API, and asks
 * again while requests wait with no instance ready (the leader may be changing hands). The
 * leader's autoscaler would also see the held requests in this replica's meter at its next tick;
 * this only saves that tick.
 */
export class ActivationRelay {
  private readonly lease: LeaseLock;
  private readonly logger: Logger;
  private readonly pending = new Set<string>();
  private stopped = false;

  constructor(private readonly options: ActivationRelayOptions) {
    this.lease = new LeaseLock(options.kube, options.leaderLease);
    this.logger = options.logger ?? silentLogger;
    options.activator.subscribe({ activate: (key, queued) => void this.relay(key, queued) });
  }

  stop(): void {
    this.stopped = true;
  }

  private async relay(key: string, queued: number): Promise<void> {
    if (this.options.isLeader() || this.pending.has(key)) return;
    this.pending.add(key);
    try {
      const waiting = () => {
        const t = this.options.activator.traffic(key);
        return !!t && t.queue.length > 0 && t.readyCount === 0;
      };
      while (!this.stopped && !this.options.isLeader() && waiting()) {
        const leader = (await this.lease.get().catch(() => undefined))?.spec?.holderIdentity;
        const member = leader ? this.options.membership.member(leader) : undefined;
        if (member) {
          const taken = await this.options.client
            .activate(member, key, Math.max(queued, this.options.activator.traffic(key)?.queue.length ?? 0))
            .catch((err: unknown) => {
              this.logger.debug(
                { function: key, leader, err: messageOf(err) },
                'asking the leader for a scale-up failed',
              );
              return false;
            });
          if (taken) return;
        }
        await sleep(this.options.retryMs ?? 250);
      }
    } finally {
      this.pending.delete(key);
    }
  }
}
