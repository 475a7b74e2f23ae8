import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import type { KubeClient } from '../kube/index.js';
import { silentLogger, type Logger } from '../lib/log.js';
import { Activator } from './activator/activator.js';
import { KubeTrafficSource } from './activator/kube-source.js';
import { Autoscaler } from './autoscaler/autoscaler.js';
import { KubeScaler } from './backends/kubernetes.js';
import { EventRecorder } from './events.js';
import { DEFAULT_SCALE, type ScaleDefaults } from './function/config.js';
import { FunctionController } from './function/controller.js';
import type { Backend } from './function/render.js';
import { LocalRunner, type LocalRunnerOptions } from './runner/runner.js';

export interface ServerlessRuntimeOptions {
  kube: KubeClient;
  /** `local` also starts a {@link LocalRunner}. @default 'kubernetes' */
  backend?: Backend;
  /** Activator listen address. @default '127.0.0.1' */
  host?: string;
  /** Activator port. @default 0 (any free port) */
  port?: number;
  /** Host routing domain. @default 'fn.localhost' */
  domain?: string;
  /** Serve Prometheus metrics at `http://host:<metricsPort>/metrics`. @default off */
  metricsPort?: number;
  /** Autoscaler decision interval. @default 2000 */
  tickMs?: number;
  /** Windows and rates for Functions that do not set their own. @default {@link DEFAULT_SCALE} */
  scaleDefaults?: Partial<ScaleDefaults>;
  /** Probe interval for new instances. @default 10 */
  probeIntervalMs?: number;
  /** Watch one namespace. @default all */
  namespace?: string;
  /** For the local backend. */
  runner?: Omit<LocalRunnerOptions, 'kube' | 'logger'>;
  /** Remove a drained pod the ReplicaSet kept after this long. @default 5000 */
  removalTimeoutMs?: number;
  logger?: Logger;
}

/**
 * The whole scale-to-zero runtime in one process: the Function controller, the activator (fed from
 * the API server), the autoscaler writing replicas through the scale subresource, and with the
 * local backend the process runner. What `trellis serverless` runs.
 *
 * @example
 *   const runtime = new ServerlessRuntime({ kube, backend: 'local', port: 8080 })
 *   await runtime.start()   // curl -H 'Host: hello.default.fn.localhost' localhost:8080
 */
export class ServerlessRuntime {
  readonly registry = new Registry();
  readonly activator: Activator;
  readonly autoscaler: Autoscaler;
  readonly controller: FunctionController;
  readonly scaler: KubeScaler;
  readonly runner: LocalRunner | undefined;
  private readonly source: KubeTrafficSource;
  private metricsServer: http.Server | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: ServerlessRuntimeOptions) {
    const logger = (this.logger = options.logger ?? silentLogger);
    const scaleDefaults = { ...DEFAULT_SCALE, ...options.scaleDefaults };
    const ns = options.namespace ? { namespace: options.namespace } : {};
    const events = new EventRecorder(options.kube, 'trellis-autoscaler', logger);
    this.activator = new Activator({ registry: this.registry, logger: logger.child({ component: 'activator' }), ...pick(options, ['host', 'port', 'domain', 'probeIntervalMs']) });
    this.source = new KubeTrafficSource({ kube: options.kube, activator: this.activator, scaleDefaults, logger, ...ns });
    this.scaler = new KubeScaler({ kube: options.kube, logger, ...(options.removalTimeoutMs ? { removalTimeoutMs: options.removalTimeoutMs } : {}) });
    this.autoscaler = new Autoscaler({ activator: this.activator, scaler: this.scaler, registry: this.registry, events, logger: logger.child({ component: 'autoscaler' }), ...(options.tickMs ? { tickMs: options.tickMs } : {}) });
    this.controller = new FunctionController({ kube: options.kube, backend: options.backend ?? 'kubernetes', scaleDefaults, events: new EventRecorder(options.kube, 'trellis-function-controller', logger), logger, ...pick(options, ['domain']), ...ns, ...(options.port ? { activatorPort: options.port } : {}) });
    this.runner = options.backend === 'local' ? new LocalRunner({ kube: options.kube, logger: logger.child({ component: 'local-runner' }), ...options.runner }) : undefined;
  }

  /** Where requests go: `http://host:port` of the activator (after start). */
  get url(): string {
    return this.activator.url;
  }

  async start(): Promise<void> {
    await this.activator.start();
    await this.runner?.start();
    await Promise.all([this.scaler.start(), this.source.start(), this.controller.start()]);
    this.autoscaler.start();
    if (this.options.metricsPort !== undefined) await this.serveMetrics(this.options.metricsPort);
    this.logger.info({ url: this.url, backend: this.options.backend ?? 'kubernetes' }, 'serverless runtime started');
  }

  async stop(): Promise<void> {
    await this.autoscaler.stop();
    await this.controller.stop();
    await this.source.stop();
    await this.scaler.stop();
    await this.activator.stop();
    await this.runner?.stop();
    await new Promise<void>((resolve) => (this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve()));
  }

  /** Port of the metrics server (after start with `metricsPort`). */
  get metricsPort(): number {
    return (this.metricsServer?.address() as AddressInfo | null)?.port ?? 0;
  }

  private async serveMetrics(port: number): Promise<void> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      void this.registry.metrics().then((text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text));
    });
    this.metricsServer = server;
    await new Promise<void>((resolve) => server.listen(port, this.options.host ?? '127.0.0.1', () => resolve()));
  }
}

function pick<T extends object, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
