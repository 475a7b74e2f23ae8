import type { KubeClient } from '../kube/index.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { Manager, type ManagerOptions } from '../runtime/index.js';
import type { Activator } from './activator/activator.js';
import type { Autoscaler } from './autoscaler/autoscaler.js';
import type { KubeScaler } from './backends/kubernetes.js';
import { registerServerless, type ServerlessOptions } from './register.js';
import { LocalRunner, type LocalRunnerOptions } from './runner/runner.js';

export interface ServerlessRuntimeOptions extends ServerlessOptions {
  kube: KubeClient;
  /** With the `local` backend: the runner's settings, and the client it writes pods, nodes and slices with. @default the runtime's client */
  runner?: Omit<LocalRunnerOptions, 'kube' | 'logger'> & { kube?: KubeClient };
  /** Serve `/healthz`, `/readyz`, `/metrics` here. @default none */
  server?: { host?: string; port: number };
  leaderElection?: ManagerOptions['leaderElection'];
  /** How long stop() lets held requests and reconciles finish. @default 10000 */
  shutdownMs?: number;
  /** What `trellis_build_info` reports. @default none */
  build?: ManagerOptions['build'];
  logger?: Logger;
}

/**
 * The scale-to-zero runtime as one process: a manager with {@link registerServerless}, plus the
 * {@link LocalRunner} for the `local` backend. What `trellis serverless` runs, and what the tests
 * and benchmarks start.
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
  private readonly logger: Logger;

  constructor(options: ServerlessRuntimeOptions) {
    this.logger = options.logger ?? silentLogger;
    this.manager = new Manager({ kube: options.kube, logger: this.logger, eventSource: 'serverless.trellis.dev/runtime', gracefulShutdownMs: options.shutdownMs ?? 10_000, ...(options.server ? { server: options.server } : {}), ...(options.leaderElection ? { leaderElection: options.leaderElection } : {}), ...(options.build ? { build: options.build } : {}) });
    ({ activator: this.activator, autoscaler: this.autoscaler, scaler: this.scaler } = registerServerless(this.manager, options));
    if (options.backend === 'local') {
      const { kube, ...runner } = options.runner ?? {};
      this.runner = new LocalRunner({ kube: kube ?? options.kube, logger: this.logger.child({ component: 'local-runner' }), ...runner });
    }
  }

  /** The metrics of the activator, the autoscaler and the manager. */
  get registry() {
    return this.manager.metrics.registry;
  }

  /** Where requests go: `http://host:port` of the activator (after start). */
  get url(): string {
    return this.activator.url;
  }

  async start(): Promise<void> {
    await this.runner?.start();
    await this.activator.start();
    await this.manager.start();
    await this.manager.waitForLeadership();
    this.logger.info({ url: this.url }, 'serverless runtime started');
  }

  async stop(): Promise<void> {
    await this.manager.stop();
    await this.runner?.stop();
  }
}
