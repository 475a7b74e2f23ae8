import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Informer, KubeClient, type KubeObject } from '../../kube/index.js';
import { ServerlessRuntime, type ServerlessRuntimeOptions } from '../../serverless/runtime.js';
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
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent | false } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
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

  constructor(private readonly kube: KubeClient, private readonly namespace: string, private readonly name: string) {}

  async start(): Promise<void> {
    this.informer = new Informer(this.kube, { apiVersion: 'apps/v1', kind: 'Deployment', namespace: this.namespace, fieldSelector: `metadata.name=${this.name}`, resyncMs: 0 });
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
export async function metricValue(registry: { metrics(): Promise<string> }, name: string, labels: Record<string, string> = {}): Promise<number> {
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
 * Starts the serverless runtime as the chart's ServiceAccount (so a missing RBAC rule fails the
 * run), with the local runner (which plays kubelet, so it writes as the admin) on the test node.
 */
export async function startServerless(namespace: string, options: Partial<ServerlessRuntimeOptions> = {}): Promise<ServerlessRuntime & { close(): Promise<void> }> {
  const { kube, controllerKubeconfig } = testCluster();
  const identity = await KubeClient.connect({ kubeconfig: controllerKubeconfig, fieldManager: 'trellis' });
  const runtime = new ServerlessRuntime({ kube: identity, backend: 'local', namespace, tickMs: 100, runner: { kube, nodeName: TEST_RUNNER_NODE }, ...options });
  await runtime.start();
  return Object.assign(runtime, {
    /** Deletes the namespace's functions and waits for their instances to stop (the runner finishes their pods), then stops. */
    async close() {
      try {
        for (const apiVersion of ['serverless.trellis.dev/v1alpha1', 'openfaas.com/v1']) {
          for (const fn of (await kube.list(apiVersion, 'Function', { namespace })).items) await kube.delete({ apiVersion, kind: 'Function', namespace, name: fn.metadata.name! });
        }
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && (await kube.list('v1', 'Pod', { namespace, fieldSelector: `spec.nodeName=${TEST_RUNNER_NODE}` })).items.length > 0) await new Promise((r) => setTimeout(r, 100));
      } finally {
        await runtime.stop();
        identity.close();
      }
    },
  });
}

/** One answer of the test handler under load: its status, and the `greeting` (which revision answered) or the error. */
export interface LoadOutcome {
  status: number;
  greeting?: string;
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

  constructor(private readonly url: () => string, private readonly concurrency: number, private readonly headers: Record<string, string> = {}, private readonly limit = Infinity) {}

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
        this.outcomes.push({ status: r.status, ...(r.status === 200 ? { greeting: (JSON.parse(r.body) as { greeting: string }).greeting } : { error: r.body }) });
      } catch (err) {
        this.outcomes.push({ status: 0, error: (err as Error).message });
      }
    }
  }
}

/** How many outcomes per greeting, and the failures. */
export function tally(outcomes: LoadOutcome[]): { by: Record<string, number>; failures: LoadOutcome[] } {
  const by: Record<string, number> = {};
  for (const o of outcomes) if (o.greeting !== undefined) by[o.greeting] = (by[o.greeting] ?? 0) + 1;
  return { by, failures: outcomes.filter((o) => o.status !== 200) };
}
