import { Informer, isNotFound, microTime, type KubeClient, type LeaseObject } from '../../kube/index.js';
import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';

/** On each replica's membership Lease: the fleet it belongs to (its leader Lease's name). */
export const LABEL_MEMBER = 'serverless.trellis.dev/member';
/** Annotations of a membership Lease: where the replica's peer API, data port and /metrics are. */
export const ANNOTATION_PEER_URL = 'serverless.trellis.dev/peer-url';
export const ANNOTATION_ADDRESS = 'serverless.trellis.dev/address';
export const ANNOTATION_METRICS_URL = 'serverless.trellis.dev/metrics-url';

/** One live replica of the runtime, as its Lease describes it. */
export interface Member {
  /** Its identity (the manager's, so the leader's Lease names it too). */
  identity: string;
  /** Base URL of its peer API: `http://10.1.2.3:8083`. */
  peerUrl: string;
  /** Where its activator takes requests: `10.1.2.3:8080` (what a Function's Service points at in proxy mode). */
  address?: string;
  metricsUrl?: string;
}

export interface MembershipOptions {
  kube: KubeClient;
  /** Namespace of the Leases (the runtime's own). */
  namespace: string;
  /** Which replicas belong together: the name of their leader Lease. @default 'trellis-serverless' */
  fleet?: string;
  self: Member;
  /** A member whose Lease was not renewed for this long is gone. @default 10000 */
  leaseDurationMs?: number;
  /** Renewal interval. @default leaseDurationMs / 4 */
  renewMs?: number;
  logger?: Logger;
}

/** The Lease name for an identity: a DNS label made of it. */
export function memberLeaseName(identity: string): string {
  const clean = identity
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `trellis-activator-${clean}`.slice(0, 63).replace(/-+$/, '');
}

/**
 * Which runtime replicas are alive, on Kubernetes itself: each replica holds a Lease labelled
 * {@link LABEL_MEMBER} (created when it starts, renewed every `renewMs`, deleted when it stops) whose
 * annotations say where to reach it. A member is live while its Lease keeps changing — judged on
 * this replica's own clock, as client-go judges leader leases, so clocks need not agree. A replica
 * killed without a goodbye drops out after `leaseDurationMs`; its Lease is deleted by whoever sees
 * it dead for three durations.
 *
 * @example
 *   const m = new Membership({ kube, namespace: 'trellis-system', self: { identity, peerUrl } })
 *   await m.start()
 *   m.members()   // every live replica, this one first
 */
export class Membership {
  readonly leaseName: string;
  private readonly informer: Informer<LeaseObject>;
  private readonly seen = new Map<string, { version: string; at: number }>();
  private readonly leaseDurationMs: number;
  private readonly logger: Logger;
  private readonly listeners: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  /** This replica as the others see it; its URLs may be filled in until {@link start}. */
  readonly self: Member;

  constructor(private readonly options: MembershipOptions) {
    this.self = options.self;
    this.leaseName = memberLeaseName(options.self.identity);
    this.leaseDurationMs = options.leaseDurationMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
    this.informer = new Informer<LeaseObject>(options.kube, {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: options.namespace,
      labelSelector: `${LABEL_MEMBER}=${options.fleet ?? 'trellis-serverless'}`,
      resyncMs: 0,
    });
    const observe = (lease: LeaseObject) => {
      const name = lease.metadata.name!;
      const version = lease.metadata.resourceVersion ?? '';
      if (this.seen.get(name)?.version !== version) this.seen.set(name, { version, at: Date.now() });
      this.changed();
    };
    this.informer.on({
      add: observe,
      update: observe,
      delete: (lease) => (this.seen.delete(lease.metadata.name!), this.changed()),
    });
  }

  /** Calls `listener` whenever a member joins, leaves or changes; returns what stops that. */
  onChange(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Creates this replica's Lease (before it takes requests), then follows everyone's. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.renew();
    await this.informer.start();
    const every = this.options.renewMs ?? Math.max(100, Math.floor(this.leaseDurationMs / 4));
    this.timer = setInterval(
      () =>
        void this.renew().catch((err: unknown) =>
          this.logger.warn({ err: messageOf(err) }, 'renewing the membership Lease failed'),
        ),
      every,
    );
    this.timer.unref();
  }

  /** Deletes this replica's Lease: the others stop counting on it at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.informer.stop();
    await this.options.kube.delete(this.ref(this.leaseName)).catch((err: unknown) => {
      if (!isNotFound(err)) this.logger.warn({ err: messageOf(err) }, 'deleting the membership Lease failed');
    });
  }

  /** The live members, this replica first. */
  members(): Member[] {
    const now = Date.now();
    const out: Member[] = [this.self];
    for (const lease of this.informer.list()) {
      const name = lease.metadata.name!;
      if (name === this.leaseName) continue;
      const seen = this.seen.get(name);
      if (!seen || now - seen.at > this.leaseDurationMs) continue;
      const member = memberOf(lease);
      if (member) out.push(member);
    }
    return out;
  }

  /** The live member with this identity (e.g. the leader's), if any. */
  member(identity: string): Member | undefined {
    return this.members().find((m) => m.identity === identity);
  }

  private changed(): void {
    for (const l of [...this.listeners]) l();
  }

  private ref(name: string) {
    return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace: this.options.namespace, name };
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    const self = this.self;
    const annotations: Record<string, string> = { [ANNOTATION_PEER_URL]: self.peerUrl };
    if (self.address) annotations[ANNOTATION_ADDRESS] = self.address;
    if (self.metricsUrl) annotations[ANNOTATION_METRICS_URL] = self.metricsUrl;
    await this.options.kube.apply({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.leaseName,
        namespace: this.options.namespace,
        labels: { [LABEL_MEMBER]: this.options.fleet ?? 'trellis-serverless' },
        annotations,
      },
      spec: {
        holderIdentity: self.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        renewTime: microTime(),
      },
    });
    // The dead leave Leases behind (a killed pod never says goodbye; its successor has a new identity).
    const now = Date.now();
    for (const [name, seen] of this.seen) {
      if (name === this.leaseName || now - seen.at < 3 * this.leaseDurationMs) continue;
      this.seen.delete(name);
      await this.options.kube.delete(this.ref(name)).catch(() => undefined);
    }
  }
}

function memberOf(lease: LeaseObject): Member | undefined {
  const a = lease.metadata.annotations ?? {};
  const identity = lease.spec?.holderIdentity;
  const peerUrl = a[ANNOTATION_PEER_URL];
  if (!identity || !peerUrl) return undefined;
  return {
    identity,
    peerUrl,
    ...(a[ANNOTATION_ADDRESS] ? { address: a[ANNOTATION_ADDRESS] } : {}),
    ...(a[ANNOTATION_METRICS_URL] ? { metricsUrl: a[ANNOTATION_METRICS_URL] } : {}),
  };
}
