import os from 'node:os';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Applier } from '../apply/index.js';
import { FIELD_MANAGER } from '../controllers/field-managers.js';
import { registerControllers } from '../controllers/index.js';
import {
  ControlPlane,
  ensureBinaries,
  gatewayApiCrds,
  KUBE_TOOL,
  KWOK_TOOL,
  packageRoot,
  userCacheDir,
} from '../controlplane/index.js';
import { KubeClient, type KubeObject } from '../kube/index.js';
import type { CueEngineOptions } from '../cue/index.js';
import type { Logger } from '../lib/log.js';
import { freePort } from '../lib/ports.js';
import { Manager } from '../runtime/index.js';
import { ServerlessRuntime } from './serverless-runtime.js';
import { readCatalog } from '../definitions/index.js';
import {
  allHandlers,
  ensureLocalCertificates,
  registerWebhooks,
  startWebhookDeps,
  unregisterWebhooks,
  WebhookServer,
} from '../webhooks/index.js';
import { buildInfo } from './build-info.js';

export interface LocalStackOptions {
  /** Cluster state, certificates and kubeconfig live here and survive restarts. */
  dataDir: string;
  /** Simulated (kwok) nodes for ordinary workloads. @default 1 */
  nodes?: number;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  /** Progress lines for a person. */
  say: (line: string) => void;
  /** Port Functions answer on (the local router in front of the activator). @default 8080, or any free port when 8080 is taken or 0 is given */
  functionsPort?: number;
  /** Folder relative handler folders of local functions start from. @default the current directory */
  root?: string;
  /** The CUE engine of the webhook and the controllers (--cue-engine). @default auto */
  cue?: CueEngineOptions;
  /** How long stopping may let running reconciles and held requests finish. @default 500 */
  shutdownMs?: number;
}

/** The owner of what `trellis up` installs itself (CRDs), so a later run can prune what it dropped. */
const UP_OWNER = { apiVersion: 'v1', kind: 'Namespace', name: 'trellis-system' };

/**
 * Everything `trellis up` runs in one process: a local control plane (the same binaries as the
 * tests) with the CRDs installed, the controllers and the admission webhook.
 */
export class LocalStack {
  private controlPlane: ControlPlane | undefined;
  private kube: KubeClient | undefined;
  private manager: Manager | undefined;
  private webhook: WebhookServer | undefined;
  private serverless: ServerlessRuntime | undefined;
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];
  /** Set by {@link stop}; a start() still under way then stops what it started since and fails. */
  private stopping = false;

  constructor(private readonly options: LocalStackOptions) {}

  get kubeconfig(): string {
    return this.controlPlane?.kubeconfigPath ?? '';
  }

  /** Where functions answer: the local router's URL (after start). */
  get functionsUrl(): string {
    return this.serverless?.url ?? '';
  }

  get client(): KubeClient {
    if (!this.kube) throw new Error('local stack not started');
    return this.kube;
  }

  async start(): Promise<void> {
    const { env, say, logger, dataDir } = this.options;
    const cacheDir = userCacheDir(env);
    const prebuilt = (name: string) => (env[name] ? { prebuiltDir: env[name] } : {});
    const kube = await ensureBinaries(KUBE_TOOL, {
      cacheDir,
      env,
      onProgress: say,
      ...prebuilt('TRELLIS_CONTROL_PLANE_BIN'),
    });
    const kwok = await ensureBinaries(KWOK_TOOL, { cacheDir, env, onProgress: say, ...prebuilt('TRELLIS_KWOK_BIN') });
    const gatewayApi = await gatewayApiCrds({ cacheDir, env, onProgress: say, ...prebuilt('TRELLIS_GATEWAY_API_DIR') });
    this.controlPlane = new ControlPlane({
      binaries: { ...kube, ...kwok },
      dataDir: path.join(dataDir, 'cluster'),
      nodes: this.options.nodes ?? 1,
      nodePath: process.execPath,
      onProgress: say,
      logger,
    });
    this.stops.push({ name: 'control plane', stop: () => this.controlPlane!.stop() });
    await this.controlPlane.start();
    this.kube = await KubeClient.connect({
      kubeconfig: this.controlPlane.kubeconfigPath,
      fieldManager: FIELD_MANAGER,
      userAgent: 'trellis-up',
    });
    await this.started('client', async () => this.kube?.close());

    say("installing CRDs (Trellis' and the Gateway API's) and the built-in definitions");
    await new Applier({ kube: this.kube }).apply(
      [...(await chartFiles('crds')), ...gatewayApi, ...(readCatalog() as KubeObject[])],
      UP_OWNER,
    );

    say('starting the admission webhook');
    const certs = await ensureLocalCertificates(path.join(dataDir, 'webhook-certs'));
    const webhookLogger = logger.child({ name: 'webhook' });
    // The webhook's engine starts first: it prints the evaluator's build progress and which engine runs.
    const webhookDeps = await startWebhookDeps(this.kube, {
      logger: webhookLogger,
      cue: { ...this.options.cue, say: this.options.say },
    });
    this.webhook = new WebhookServer({
      handlers: allHandlers(webhookDeps),
      tls: certs,
      host: '127.0.0.1',
      port: 0,
      logger: webhookLogger,
    });
    await this.webhook.start();
    await this.started('webhook', async () => {
      await unregisterWebhooks(this.kube!).catch(() => undefined);
      await this.webhook!.stop();
      await webhookDeps.stop();
    });
    await registerWebhooks(this.kube, {
      target: { url: `https://127.0.0.1:${this.webhook.port}` },
      caBundle: certs.caBundle,
    });

    say('starting the controllers');
    this.manager = new Manager({
      kube: this.kube,
      logger: logger.child({ name: 'controller' }),
      gracefulShutdownMs: this.options.shutdownMs ?? 500,
    });
    registerControllers(this.manager, {
      version: buildInfo().version,
      ...(this.options.cue ? { cue: this.options.cue } : {}),
      // Functions' rollout analysis reads the activator's counters: in this process, from its registry.
      activatorMetrics: () => this.activatorMetrics(),
      gitops: { cacheDir: path.join(os.tmpdir(), `trellis-up-git-${process.pid}`) },
    });
    this.stops.push({ name: 'controllers', stop: () => this.manager!.stop() });
    await this.manager.start();
    await this.started();

    say('starting the serverless runtime (handlers run as local processes)');
    // Clients call the local router (kube-proxy's part: a warm Function's instances directly, else
    // the activator, docs/adr/0017-instance-meter.md); the activator itself listens on any free port.
    const serverless = (port: number) =>
      new ServerlessRuntime({
        kube: this.kube!,
        backend: 'local',
        port: 0,
        router: { port },
        shutdownMs: this.options.shutdownMs ?? 500,
        logger: logger.child({ name: 'serverless' }),
        ...(this.options.root ? { runner: { root: this.options.root } } : {}),
      });
    // A port known before the runtime starts (0: a free one), so Functions' status.url can name it.
    const wanted = this.options.functionsPort;
    this.serverless = serverless(wanted || (wanted === 0 ? await freePort() : 8080));
    try {
      await this.serverless.router!.start();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || wanted) throw err;
      if (wanted === undefined) say('port 8080 is taken: Functions answer on another port');
      this.serverless = serverless(await freePort());
      await this.serverless.router!.start();
    }
    this.stops.push({ name: 'serverless runtime', stop: () => this.serverless!.stop() });
    await this.serverless.start();
    await this.started();
  }

  /** The in-process activator's /metrics text (none before it started). */
  async activatorMetrics(): Promise<string[]> {
    return this.serverless ? [await this.serverless.registry.metrics()] : [];
  }

  /**
   * Called after each part of start(): registers how to stop the part just started. When stop() came
   * meanwhile (the first Ctrl-C of `trellis up` aborts its wait for start() at once), it stops what
   * start() started since, which that stop() did not know of, and ends start() with an AbortError.
   */
  private async started(name?: string, stop?: () => Promise<void>): Promise<void> {
    if (name && stop) this.stops.push({ name, stop });
    if (!this.stopping) return;
    await this.stop();
    throw Object.assign(new Error('stopped while starting'), { name: 'AbortError' });
  }

  /** Stops everything started, in reverse order; the cluster's data stays in the data folder. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const { name, stop } of this.stops.splice(0).reverse()) {
      const started = Date.now();
      await stop().catch((err: Error) => this.options.logger.warn({ part: name, err: err.message }, 'stopping'));
      this.options.logger.info({ part: name, ms: Date.now() - started }, 'stopped');
    }
  }
}

/** The chart's generated files of one kind (`crds`, ...), parsed. */
async function chartFiles(kind: string): Promise<KubeObject[]> {
  const dir = path.join(packageRoot(), 'charts', 'trellis', 'files', kind);
  const objects: KubeObject[] = [];
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(await readFile(path.join(dir, file), 'utf8'))) {
      const obj = doc.toJS() as KubeObject | null;
      if (obj) objects.push(obj);
    }
  }
  return objects;
}
