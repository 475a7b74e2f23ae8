import { registerControllers } from '../controllers/index.js';
import type { KubeClient } from '../kube/index.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { Manager, type ManagerOptions } from '../runtime/index.js';
import type { Activator } from '../serverless/activator/activator.js';
import type { Autoscaler } from '../serverless/autoscaler/autoscaler.js';
import type { KubeScaler } from '../serverless/backends/kubernetes.js';
import { sliceWatch } from '../serverless/activator/kube-source.js';
import { LocalRouter } from '../serverless/endpoints/local-router.js';
import type { ServerlessOptions } from '../serverless/register.js';
import { ActivationRelay } from '../serverless/peers/activation-relay.js';
import { Membership } from '../serverless/peers/membership.js';
import { PeerClient } from '../serverless/peers/peer-client.js';
import { PeerFleet } from '../serverless/peers/peer-fleet.js';
import { PeerServer } from '../serverless/peers/peer-server.js';
import { LocalRunner, type LocalRunnerOptions } from '../serverless/runner/runner.js';

export interface ServerlessRuntimeOptions extends ServerlessOptions {
  kube: KubeClient;
  /**
   * With the `local` backend: the runner's settings, and the client it writes pods, nodes and slices
   * with; `false` when a runner runs elsewhere (several replicas share one). @default a runner with the runtime's client
   */
  runner?: (Omit<LocalRunnerOptions, 'kube' | 'logger'> & { kube?: KubeClient }) | false;
  /** Serve `/healthz`, `/readyz`, `/metrics` here. @default none */
  server?: { host?: string; port: number };
  leaderElection?: ManagerOptions['leaderElection'];
  /**
   * Run the Function controller here too. Off where it runs beside the other controllers (the chart:
   * `trellis controller --function-controller`), so this process needs only the activator's rights.
   * @default true
   */
  functionController?: boolean;
  /** How long stop() lets held requests and reconciles finish. @default 10000 */
  shutdownMs?: number;
  /** What `trellis_build_info` reports. @default none */
  build?: ManagerOptions['build'];
  /**
   * Run as one of several replicas (docs/adr/0013-activator-ha.md): a membership Lease in
   * `namespace`, the peer API on `host:port`, reachable by the others at `advertise`. Without it the
   * runtime is one replica: its autoscaler sees only its own activator.
   */
  peers?: PeerOptions;
  /**
   * A local router (what kube-proxy is for the Functions' Services, `trellis up` has none) on
   * `host:port`: clients calling it reach a warm Function's instances directly when its Service is
   * in serve mode, else this activator (docs/adr/0017-instance-meter.md). Functions' `status.url`
   * then names its port. @default none: clients call the activator
   */
  router?: { host?: string; port?: number };
  /** This replica's identity (its leases, Events, meter). @default `<hostname>_<random hex>` */
  identity?: string;
  logger?: Logger;
}

export interface PeerOptions {
  namespace: string;
  /** Peer API listen address. @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** The host others reach this replica's peer API and activator at (its pod IP). @default `host`, or 127.0.0.1 for 0.0.0.0 */
  advertise?: string;
  /** Peer calls carry and require it. @default none */
  token?: string;
  /** A replica whose membership Lease was not renewed for this long is gone. @default 10000 */
  leaseDurationMs?: number;
}

/**
 * The scale-to-zero runtime as one process: a manager with the serverless family of
 * `registerControllers` (controllers/index.ts), plus the {@link LocalRunner} for the `local`
 * backend. What `trellis serverless` and `trellis up` run, and what the tests and benchmarks start.
 *
 * @example
 *   const runtime = new ServerlessRuntime({ kube, backend: 'local', port: 8080 })
 *   await runtime.start()   // curl -H 'Host: hello.default.fn.localhost' 127.0.0.1:8080
 */
export class ServerlessRuntime {
  readonly manager: Manager;
  readonly activator: Activator;
  readonly autoscaler: Autoscaler;
  readonly scaler: KubeScaler;
  readonly runner: LocalRunner | undefined;
  /** With `router`: the local router in front of the activator. */
  readonly router: LocalRouter | undefined;
  /** With `peers`: this replica's membership, peer API and client. */
  readonly peers:
    { membership: Membership; server: PeerServer; client: PeerClient; relay: ActivationRelay } | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: ServerlessRuntimeOptions) {
    this.logger = options.logger ?? silentLogger;
    this.manager = new Manager({
      kube: options.kube,
      logger: this.logger,
      eventSource: 'serverless.trellis.dev/runtime',
      gracefulShutdownMs: options.shutdownMs ?? 10_000,
      ...(options.identity ? { identity: options.identity } : {}),
      ...(options.server ? { server: options.server } : {}),
      ...(options.leaderElection ? { leaderElection: options.leaderElection } : {}),
      ...(options.build ? { build: options.build } : {}),
    });
    const identity = this.manager.identity;
    const peers = options.peers;
    let membership: Membership | undefined;
    let client: PeerClient | undefined;
    if (peers) {
      client = new PeerClient({ ...(peers.token ? { token: peers.token } : {}) });
      // The address is known once the peer server and the activator listen: filled in by start().
      membership = new Membership({
        kube: options.kube,
        namespace: peers.namespace,
        fleet: options.leaderElection?.name ?? 'trellis-serverless',
        self: { identity, peerUrl: '' },
        ...(peers.leaseDurationMs ? { leaseDurationMs: peers.leaseDurationMs } : {}),
        logger: this.logger.child({ component: 'membership' }),
      });
    }
    const fleet =
      membership && client
        ? (activator: Activator) =>
            new PeerFleet({
              activator,
              identity,
              membership: membership!,
              client: client!,
              logger: this.logger.child({ component: 'fleet' }),
            })
        : undefined;
    // functionController: false registers the activator and autoscaler only (controllers/index.ts).
    // With peers, a Function's Service points at every live replica's activator (proxy mode).
    const activators = membership
      ? () => membership!.members().flatMap((m) => (m.address ? [hostPort(m.address)] : []))
      : undefined;
    const serverless = {
      ...options,
      ...(options.router?.port ? { urlPort: options.router.port } : {}),
      ...(options.shutdownMs !== undefined ? { drainTimeoutMs: options.shutdownMs } : {}),
      ...(fleet ? { fleet } : {}),
      ...(activators ? { activators } : {}),
    };
    ({
      activator: this.activator,
      autoscaler: this.autoscaler,
      scaler: this.scaler,
    } = registerControllers(this.manager, { oam: false, serverless }).serverless!);
    if (peers && membership && client) {
      const server = new PeerServer({
        activator: this.activator,
        identity,
        ...(peers.host ? { host: peers.host } : {}),
        ...(peers.port !== undefined ? { port: peers.port } : {}),
        ...(peers.token ? { token: peers.token } : {}),
        handlers: {
          activate: (key, queued) => {
            if (!this.manager.isLeader) return false;
            this.autoscaler.activate(key, queued);
            return true;
          },
        },
        logger: this.logger.child({ component: 'peers' }),
      });
      const leaderLease = {
        namespace: options.leaderElection?.namespace ?? peers.namespace,
        name: options.leaderElection?.name ?? 'trellis-serverless',
      };
      const relay = new ActivationRelay({
        activator: this.activator,
        kube: options.kube,
        leaderLease,
        isLeader: () => this.manager.isLeader,
        membership,
        client,
        logger: this.logger.child({ component: 'relay' }),
      });
      this.peers = { membership, server, client, relay };
    }
    if (options.router)
      this.router = new LocalRouter({
        ...options.router,
        ...(options.domain ? { domain: options.domain } : {}),
        slices: this.manager.informer(sliceWatch(options.namespace)),
        activator: this.activator,
        timeoutOf: (revision) => this.activator.traffic(revision)?.config.timeoutMs,
        ...(options.shutdownMs !== undefined ? { drainTimeoutMs: options.shutdownMs } : {}),
        logger: this.logger.child({ component: 'local-router' }),
      });
    if (options.backend === 'local' && options.runner !== false) {
      const { kube, ...runner } = options.runner ?? {};
      this.runner = new LocalRunner({
        kube: kube ?? options.kube,
        logger: this.logger.child({ component: 'local-runner' }),
        ...runner,
      });
    }
  }

  /** The metrics of the activator, the autoscaler and the manager. */
  get registry() {
    return this.manager.metrics.registry;
  }

  /** Where clients send requests: `http://host:port` of the local router, or of the activator without one (after start). */
  get url(): string {
    return this.router?.url ?? this.activator.url;
  }

  /** Starts serving; resolves once this replica serves requests (and, without leader election, leads). */
  async start(): Promise<void> {
    await this.runner?.start();
    await this.activator.start();
    await this.router?.start();
    if (this.peers) {
      const { server, membership } = this.peers;
      await server.start();
      const { host, advertise } = this.options.peers!;
      const reach = advertise ?? (!host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
      membership.self.peerUrl = `http://${reach}:${server.port}`;
      membership.self.address = `${reach}:${this.activator.port}`;
      if (this.options.server)
        membership.self.metricsUrl = `http://${reach}:${this.manager.port || this.options.server.port}/metrics`;
      await membership.start();
    }
    await this.manager.start();
    if (!this.options.leaderElection) await this.manager.waitForLeadership();
    this.logger.info({ url: this.url, identity: this.manager.identity }, 'serverless runtime started');
  }

  /** Leaves the fleet first (the others stop counting on this replica), then stops serving. */
  async stop(): Promise<void> {
    this.peers?.relay.stop();
    await this.peers?.membership.stop();
    // The router first: what it still hands over reaches an activator that is still serving.
    await this.router?.stop();
    await this.manager.stop();
    await this.peers?.server.stop();
    this.peers?.client.close();
    await this.runner?.stop();
  }
}

/** `10.1.2.3:8080` / `[::1]:8080` → host and port. */
function hostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) };
}
