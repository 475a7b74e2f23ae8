import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Informer, KubeClient, type KubeObject } from '../../kube/index.js';
import { Manager, type ManagerOptions } from '../../runtime/index.js';
import { registerFunctionController } from '../../serverless/register.js';
import { LocalRunner } from '../../serverless/runner/runner.js';
import { ServerlessRuntime, type ServerlessRuntimeOptions } from '../../cli/serverless-runtime.js';
import { CHART_NAMESPACE } from './chart.js';
import { testCluster } from './cluster.js';
import type { FunctionObject, FunctionSpec } from '../../serverless/function/config.js';

/** Folder of the test handler (`node handler.js`): /sleep, /echo, /stream, answers with its pid and port. */
export const HANDLER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'integration', 'testdata');

/** The node name every serverless test's local runner uses (suites run one after another). */
export const TEST_RUNNER_NODE = 'trellis-local-runner-test';

/** The name of a Function's first revision (and of its Deployment and Service). */
export const firstRevision = (fn: string): string => `${fn}-00001`;

/** A Function running the test handler locally. */
export function testFunction(namespace: string, name: string, spec: FunctionSpec = {}): FunctionObject & KubeObject {
  return {
    apiVersion: 'serverless.trellis.dev/v1alpha1',
    kind: 'Function',
    metadata: { name, namespace },
    spec: { handler: 'node handler.js', workingDir: HANDLER_DIR, ...spec },
  };
}

export interface HttpResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One HTTP request on a fresh connection; network errors reject. */
export function request(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    agent?: http.Agent | false;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Records every `spec.replicas` a Deployment goes through (from a watch), for asserting on scale writes. */
export class ReplicaHistory {
  readonly values: number[] = [];
  /** Called with each new value of replicas. */
  onChange: ((replicas: number) => void) | undefined;
  private informer: Informer | undefined;

  constructor(
    private readonly kube: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  async start(): Promise<void> {
    this.informer = new Informer(this.kube, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: this.namespace,
      fieldSelector: `metadata.name=${this.name}`,
      resyncMs: 0,
    });
    const record = (d: KubeObject) => {
      const r = (d.spec as { replicas?: number }).replicas ?? 1;
      if (this.values[this.values.length - 1] === r) return;
      this.values.push(r);
      this.onChange?.(r);
    };
    this.informer.on({ add: record, update: record });
    await this.informer.start();
  }

  stop(): Promise<void> | undefined {
    return this.informer?.stop();
  }

  get current(): number | undefined {
    return this.values[this.values.length - 1];
  }

  /** How many times replicas went from 0 to more. */
  get wakeUps(): number {
    return this.values.filter((v, i) => i > 0 && this.values[i - 1] === 0 && v > 0).length;
  }
}

/** The value of one Prometheus series in a registry's text output (summed over matching label sets). */
export async function metricValue(
  registry: { metrics(): Promise<string> },
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const text = await registry.metrics();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * The Function controller as the chart runs it: in the controllers' process, as their ServiceAccount
 * (so a missing rule of theirs fails the run), on functions of `namespace`. With `leaderElection`,
 * one of several such managers reconciles at a time, as the controllers' replicas do.
 */
export async function startFunctionController(
  namespace: string,
  options: Partial<ServerlessRuntimeOptions> = {},
  leaderElection?: ManagerOptions['leaderElection'],
): Promise<{ stop(): Promise<void> }> {
  const kube = await KubeClient.connect({ kubeconfig: testCluster().controllerKubeconfig, fieldManager: 'trellis' });
  const manager = new Manager({
    kube,
    ...(options.logger ? { logger: options.logger } : {}),
    eventSource: 'serverless.trellis.dev/runtime',
    gracefulShutdownMs: 10_000,
    ...(leaderElection ? { leaderElection } : {}),
  });
  registerFunctionController(manager, { backend: 'local', namespace, ...options });
  await manager.start();
  return {
    async stop() {
      try {
        await manager.stop();
      } finally {
        kube.close();
      }
    },
  };
}

/**
 * Starts the serverless runtime as the chart runs it: the Function controller as the controllers'
 * ServiceAccount ({@link startFunctionController}), the activator and autoscaler as the activator's
 * own (so a missing RBAC rule of either fails the run), and the local runner (which plays kubelet,
 * so it writes as the admin) on the test node. The runtime returned is the activator's (its
 * registry has the activator's and autoscaler's metrics).
 */
export async function startServerless(
  namespace: string,
  options: Partial<ServerlessRuntimeOptions> = {},
): Promise<ServerlessRuntime & { close(): Promise<void> }> {
  const { kube, activatorKubeconfig } = testCluster();
  const identity = await KubeClient.connect({ kubeconfig: activatorKubeconfig, fieldManager: 'trellis' });
  const functions = await startFunctionController(namespace, options);
  const runtime = new ServerlessRuntime({
    kube: identity,
    backend: 'local',
    namespace,
    tickMs: 100,
    runner: { kube, nodeName: TEST_RUNNER_NODE },
    ...options,
    functionController: false,
  });
  await runtime.start();
  return Object.assign(runtime, {
    /** Deletes the namespace's functions and waits for their instances to stop (the runner finishes their pods), then stops. */
    async close() {
      try {
        await deleteFunctions(namespace);
      } finally {
        await runtime.stop();
        await functions.stop();
        identity.close();
      }
    },
  });
}

/** One answer of the test handler under load: its status, and the `greeting` (which revision answered) or the error. */
export interface LoadOutcome {
  status: number;
  greeting?: string;
  /** The address the answering instance listens on (which instance answered, on a pod network). */
  address?: string;
  error?: string;
}

/**
 * Closed-loop load: `concurrency` workers each send requests one after another over a keep-alive
 * pool until {@link stop}, recording every outcome. Requests that fail at the network level are
 * recorded, never thrown.
 *
 * @example
 *   const load = new Load(() => `${url}/sleep?ms=5`, 20).start()
 *   ...                       // switch something
 *   const outcomes = await load.stop()
 */
export class Load {
  readonly outcomes: LoadOutcome[] = [];
  private running = false;
  private workers: Promise<void>[] = [];
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

  constructor(
    private readonly url: () => string,
    private readonly concurrency: number,
    private readonly headers: Record<string, string> = {},
    private readonly limit = Infinity,
  ) {}

  start(): this {
    this.running = true;
    this.workers = Array.from({ length: this.concurrency }, () => this.worker());
    return this;
  }

  /** Resolves once every worker has stopped (after `limit` requests, or {@link stop}). */
  async done(): Promise<LoadOutcome[]> {
    await Promise.all(this.workers);
    this.agent.destroy();
    return this.outcomes;
  }

  /** Stops sending; resolves with every outcome once the requests in flight are answered. */
  stop(): Promise<LoadOutcome[]> {
    this.running = false;
    return this.done();
  }

  private sent = 0;

  private async worker(): Promise<void> {
    while (this.running && this.sent < this.limit) {
      this.sent++;
      try {
        const r = await request(this.url(), { agent: this.agent, headers: this.headers });
        this.outcomes.push({
          status: r.status,
          ...(r.status === 200 ? answerOf(r.body) : { error: r.body }),
        });
      } catch (err) {
        this.outcomes.push({ status: 0, error: (err as Error).message });
      }
    }
  }
}

function answerOf(body: string): { greeting: string; address?: string } {
  const { greeting, host } = JSON.parse(body) as { greeting: string; host?: string };
  return { greeting, ...(host ? { address: host } : {}) };
}

/** How many outcomes per greeting, and the failures. */
export function tally(outcomes: LoadOutcome[]): { by: Record<string, number>; failures: LoadOutcome[] } {
  const by: Record<string, number> = {};
  for (const o of outcomes) if (o.greeting !== undefined) by[o.greeting] = (by[o.greeting] ?? 0) + 1;
  return { by, failures: outcomes.filter((o) => o.status !== 200) };
}

/** Leader election and membership timings short enough for tests (a standby takes over in 3 s). */
export const FAST_LEASES = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };

/**
 * One replica among several of the runtime, in this process, as the chart runs them: the activator
 * and autoscaler as the activator's ServiceAccount, beside a Function controller as the controllers'
 * (elected among the replicas' like the controllers' replicas), serving the functions of `namespace`:
 * leader election and membership Leases in the chart's namespace (where its Role allows them) under a
 * fleet name of the test's own, the peer API on loopback, no local runner of its own (start one with
 * {@link startRunner}). `functionController: false`: no Function controller beside it (the test runs one).
 */
export async function startReplica(
  namespace: string,
  identity: string,
  options: Partial<ServerlessRuntimeOptions> = {},
): Promise<ServerlessRuntime & { close(): Promise<void> }> {
  const kube = await KubeClient.connect({ kubeconfig: testCluster().activatorKubeconfig, fieldManager: 'trellis' });
  const functions =
    options.functionController === false
      ? undefined
      : await startFunctionController(namespace, options, {
          namespace: CHART_NAMESPACE,
          name: `trellis-functions-${namespace}`,
          ...FAST_LEASES,
        });
  const runtime = new ServerlessRuntime({
    kube,
    backend: 'local',
    runner: false,
    namespace,
    tickMs: 100,
    identity: `${namespace}-${identity}`,
    leaderElection: { namespace: CHART_NAMESPACE, name: `trellis-serverless-${namespace}`, ...FAST_LEASES },
    peers: { namespace: CHART_NAMESPACE, leaseDurationMs: FAST_LEASES.leaseDurationMs },
    ...options,
    functionController: false,
  });
  await runtime.start();
  return Object.assign(runtime, {
    async close() {
      try {
        await runtime.stop();
        await functions?.stop();
      } finally {
        kube.close();
      }
    },
  });
}

/** The local process runner on the test node, for replicas started without one. */
export async function startRunner(): Promise<LocalRunner> {
  const runner = new LocalRunner({ kube: testCluster().kube, nodeName: TEST_RUNNER_NODE });
  await runner.start();
  return runner;
}

/** Deletes the namespace's Functions and waits until the runner has finished their pods. */
export async function deleteFunctions(namespace: string): Promise<void> {
  const { kube } = testCluster();
  for (const apiVersion of ['serverless.trellis.dev/v1alpha1', 'openfaas.com/v1']) {
    for (const fn of (await kube.list(apiVersion, 'Function', { namespace })).items)
      await kube.delete({ apiVersion, kind: 'Function', namespace, name: fn.metadata.name! });
  }
  const deadline = Date.now() + 30_000;
  while (
    Date.now() < deadline &&
    (await kube.list('v1', 'Pod', { namespace, fieldSelector: `spec.nodeName=${TEST_RUNNER_NODE}` })).items.length > 0
  )
    await new Promise((r) => setTimeout(r, 100));
}

/** How one request through several activators ended: its status, and whether it had to be sent again. */
export interface FailoverOutcome {
  status: number;
  greeting?: string;
  error?: string;
  /** Sent again because no activator took the connection (refused): always safe. */
  refused: number;
  /** Sent again because the activator it was in went away before answering (reset): only an idempotent request may be. */
  cut: number;
}

/**
 * What a load balancer in front of several activators does (an ingress, a client library): spreads
 * requests over the activators in turn; a connection refused is sent to the next one at once (the
 * request never arrived anywhere); a request cut before its answer (the activator died with it in
 * flight) is sent again only when `retryCut` says so — HTTP lets a client repeat an idempotent
 * request such as GET, never a POST. A target that refused is left out for a second (passive
 * health checking, as Envoy's outlier detection does).
 */
export class FailoverClient {
  private next = 0;
  private readonly agents: http.Agent[];
  /** Requests sent to each target and not answered yet. */
  readonly inFlight: number[];
  private readonly downUntil: number[];
  /** Requests cut before their answer, by the target they were in. */
  readonly cutBy: number[];

  constructor(
    readonly targets: string[],
    private readonly retryCut: boolean,
  ) {
    this.agents = targets.map(() => new http.Agent({ keepAlive: true, maxSockets: Infinity }));
    this.inFlight = targets.map(() => 0);
    this.downUntil = targets.map(() => 0);
    this.cutBy = targets.map(() => 0);
  }

  private pick(): number {
    const now = Date.now();
    for (let k = 0; k < this.targets.length; k++) {
      const i = this.next++ % this.targets.length;
      if (this.downUntil[i]! <= now) return i;
    }
    return this.next++ % this.targets.length;
  }

  async get(path: string): Promise<FailoverOutcome> {
    const outcome: FailoverOutcome = { status: 0, refused: 0, cut: 0 };
    for (let attempt = 0; attempt < 2 * this.targets.length + 2; attempt++) {
      const i = this.pick();
      this.inFlight[i]!++;
      try {
        const r = await request(`${this.targets[i]}${path}`, { agent: this.agents[i]! }).finally(
          () => this.inFlight[i]!--,
        );
        outcome.status = r.status;
        if (r.status === 200) outcome.greeting = (JSON.parse(r.body) as { greeting: string }).greeting;
        else outcome.error = r.body;
        return outcome;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ECONNREFUSED') {
          outcome.refused++;
          this.downUntil[i] = Date.now() + 1000;
        } else {
          outcome.cut++;
          this.cutBy[i]!++;
          outcome.error = (err as Error).message;
          if (!this.retryCut) return outcome;
        }
      }
    }
    return outcome;
  }

  close(): void {
    for (const a of this.agents) a.destroy();
  }
}
