import http from 'node:http';
import net from 'node:net';
import { Informer, type KubeClient } from '../../kube/index.js';
import type { Slice } from '../../serverless/endpoints/slices.js';
import { LABEL_MODE } from '../../serverless/endpoints/slices.js';

/** One request through a Service: its answer and which kind of endpoint took it. */
export interface ServiceOutcome {
  status: number;
  /** `serve` (an instance), `proxy` (an activator), or '' when the Service had no endpoint. */
  mode: string;
  error?: string;
}

/**
 * A client of a Function's own Service as kube-proxy routes it: the Service's EndpointSlices are
 * watched, and each request goes to one ready endpoint of them (round robin), with the Service's
 * cluster name as Host. `.localhost` names are loopback (RFC 6761), so traffic stays on this
 * machine. Each outcome says whether an instance (serve mode) or an activator (proxy mode) took it.
 *
 * @example
 *   const svc = await ServiceClient.start(kube, 'ns', 'hello')
 *   (await svc.get('/')).mode   // 'proxy' at zero
 */
export class ServiceClient {
  private next = 0;
  // Idle sockets close before the handlers' 5 s keep-alive does (no reuse of a socket the server closed).
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, timeout: 4_000 });

  private constructor(
    private readonly slices: Informer<Slice>,
    private readonly namespace: string,
    private readonly service: string,
  ) {}

  static async start(kube: KubeClient, namespace: string, service: string): Promise<ServiceClient> {
    const slices = new Informer<Slice>(kube, {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      namespace,
      labelSelector: `kubernetes.io/service-name=${service}`,
      resyncMs: 0,
    });
    await slices.start();
    return new ServiceClient(slices, namespace, service);
  }

  /** The ready endpoints now, as kube-proxy would program them. */
  endpoints(): { host: string; port: number; mode: string }[] {
    const out: { host: string; port: number; mode: string }[] = [];
    for (const s of this.slices.list()) {
      const port = s.ports?.[0]?.port;
      if (!port) continue;
      for (const e of s.endpoints ?? []) {
        if (e.conditions?.ready === false) continue;
        const address = e.addresses[0] ?? '';
        const host = net.isIP(address) ? address : address.endsWith('.localhost') ? '127.0.0.1' : '';
        if (host) out.push({ host, port, mode: s.metadata.labels?.[LABEL_MODE] ?? '' });
      }
    }
    return out;
  }

  /** The mode of the Service's slices now ('' with none). */
  mode(): string {
    return this.slices.list()[0]?.metadata.labels?.[LABEL_MODE] ?? '';
  }

  get(path: string): Promise<ServiceOutcome> {
    const eps = this.endpoints();
    if (eps.length === 0) return Promise.resolve({ status: 0, mode: '', error: 'the Service has no ready endpoint' });
    const ep = eps[this.next++ % eps.length]!;
    return new Promise((resolve) => {
      const req = http.get(
        {
          host: ep.host,
          port: ep.port,
          path,
          agent: this.agent,
          headers: { host: `${this.service}.${this.namespace}.svc.cluster.local` },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, mode: ep.mode }));
          res.on('error', (err) => resolve({ status: 0, mode: ep.mode, error: err.message }));
        },
      );
      req.on('error', (err) => resolve({ status: 0, mode: ep.mode, error: err.message }));
    });
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await this.slices.stop();
  }
}

/**
 * Closed-loop load through a {@link ServiceClient}: `concurrency` workers, one request after
 * another, until {@link stop}; every outcome recorded, nothing thrown.
 */
export class ServiceLoad {
  readonly outcomes: ServiceOutcome[] = [];
  private running = true;
  private readonly workers: Promise<void>[];

  constructor(
    private readonly client: ServiceClient,
    private readonly path: () => string,
    concurrency: number,
  ) {
    this.workers = Array.from({ length: concurrency }, () => this.worker());
  }

  /** Outcomes so far taken by `mode`. */
  count(mode: string): number {
    return this.outcomes.filter((o) => o.mode === mode).length;
  }

  async stop(): Promise<ServiceOutcome[]> {
    this.running = false;
    await Promise.all(this.workers);
    return this.outcomes;
  }

  private async worker(): Promise<void> {
    while (this.running) this.outcomes.push(await this.client.get(this.path()));
  }
}
