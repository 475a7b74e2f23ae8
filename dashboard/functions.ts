/**
 * The Functions page's small charts: every {@link FunctionSamplerOptions.intervalMs} the sampler
 * records, per Function, its ready instances (Function status) and — when activator /metrics are
 * reachable — the activators' concurrency (gauge), and the requests and cold starts (activations)
 * since the previous sample, summed over revisions and activator replicas.
 */
import type { Function as TrellisFunction } from '../apis/generated/serverless.trellis.dev-v1alpha1.js';
import type { Informer, KubeClient, KubeObject } from '../kube/index.js';
import type { Logger } from '../lib/log.js';
import { parseMetrics, type Sample } from '../lib/metrics-text.js';

export type FunctionObject = TrellisFunction & KubeObject;

/** The activators' membership Leases (serverless/peers) carry their /metrics URL in this annotation. */
const ANNOTATION_METRICS_URL = 'serverless.trellis.dev/metrics-url';
const LABEL_MEMBER = 'serverless.trellis.dev/member';

export interface FunctionSamplerOptions {
  functions: Informer<FunctionObject>;
  logger: Logger;
  /** Activator /metrics URLs to scrape. @default [] */
  metricsUrls?: string[];
  /** Activators' metrics texts read in this process (`trellis up`'s activator). */
  metricsTexts?: () => Promise<string[]>;
  /** Also scrape the activators found by their membership Leases in this namespace (the chart's release namespace). */
  leaseNamespace?: string;
  kube?: KubeClient;
  /** @default 10000 */
  intervalMs?: number;
  /** @default 600000 (10 minutes) */
  windowMs?: number;
  /** Called with every Function after each sample: its charts changed (the server tells the pages). */
  onSample?: (functions: FunctionObject[]) => void;
}

export interface FunctionSeries {
  at: string[];
  instances: number[];
  concurrency: number[];
  requests: number[];
  coldStarts: number[];
}

interface Point {
  at: number;
  instances: number;
  metrics?: { concurrency: number; requests: number; activations: number };
}

/**
 * @example
 *   const sampler = new FunctionSampler({ functions, logger, metricsUrls: ['http://127.0.0.1:9091/metrics'] })
 *   sampler.start(); … sampler.series('default', 'hello'); sampler.stop()
 */
export class FunctionSampler {
  private readonly points = new Map<string, Point[]>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  /** Whether the last sample read activator metrics. */
  hasMetrics = false;

  constructor(private readonly options: FunctionSamplerOptions) {}

  get intervalMs(): number {
    return this.options.intervalMs ?? 10_000;
  }

  get windowMs(): number {
    return this.options.windowMs ?? 600_000;
  }

  start(): void {
    const tick = () => {
      this.running = this.sample().catch((err: unknown) =>
        this.options.logger.debug({ err: String(err) }, 'function sample failed'),
      );
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Takes one sample now. */
  async sample(): Promise<void> {
    const samples = await this.scrape();
    this.hasMetrics = samples !== undefined;
    const now = Date.now();
    const live = new Set<string>();
    for (const fn of this.options.functions.list()) {
      const key = `${fn.metadata.namespace}/${fn.metadata.name}`;
      live.add(key);
      const match = (s: Sample) =>
        s.labels.namespace === fn.metadata.namespace && s.labels.function === fn.metadata.name;
      const total = (name: string) =>
        (samples ?? []).filter((s) => s.name === name && match(s)).reduce((a, s) => a + s.value, 0);
      const point: Point = {
        at: now,
        instances: fn.status?.readyReplicas ?? 0,
        ...(samples
          ? {
              metrics: {
                concurrency: total('trellis_activator_concurrency'),
                // Through an activator, plus what instances took directly (serve mode, ADR 0017).
                requests: total('trellis_activator_requests_total') + total('trellis_autoscaler_direct_requests_total'),
                activations: total('trellis_activator_activations_total'),
              },
            }
          : {}),
      };
      const kept = (this.points.get(key) ?? []).filter((p) => p.at > now - this.windowMs);
      this.points.set(key, [...kept, point]);
    }
    for (const key of this.points.keys()) if (!live.has(key)) this.points.delete(key);
    this.options.onSample?.(this.options.functions.list());
  }

  /** The samples of one Function: instances always; the rest only where metrics were read. */
  series(namespace: string, name: string): FunctionSeries {
    const points = this.points.get(`${namespace}/${name}`) ?? [];
    const out: FunctionSeries = { at: [], instances: [], concurrency: [], requests: [], coldStarts: [] };
    points.forEach((p, i) => {
      out.at.push(new Date(p.at).toISOString());
      out.instances.push(p.instances);
      if (!this.hasMetrics) return;
      const before = points[i - 1]?.metrics;
      const m = p.metrics;
      out.concurrency.push(m?.concurrency ?? 0);
      // Counters restart with an activator: a drop counts as what was counted since.
      const increase = (now: number, then: number | undefined) =>
        then === undefined ? 0 : now >= then ? now - then : now;
      out.requests.push(m ? increase(m.requests, before?.requests) : 0);
      out.coldStarts.push(m ? increase(m.activations, before?.activations) : 0);
    });
    return out;
  }

  /** All activators' samples, or undefined when none could be read. */
  private async scrape(): Promise<Sample[] | undefined> {
    const urls = new Set(this.options.metricsUrls ?? []);
    const { kube, leaseNamespace } = this.options;
    if (kube && leaseNamespace) {
      const leases = await kube
        .list('coordination.k8s.io/v1', 'Lease', { namespace: leaseNamespace, labelSelector: LABEL_MEMBER })
        .then((l) => l.items)
        .catch(() => []);
      for (const lease of leases) {
        const url = lease.metadata.annotations?.[ANNOTATION_METRICS_URL];
        if (url) urls.add(url);
      }
    }
    const texts = (await this.options.metricsTexts?.().catch(() => [])) ?? [];
    if (!urls.size && !texts.length) return undefined;
    const read = await Promise.all(
      [...urls].map((url) =>
        fetch(url, { signal: AbortSignal.timeout(3000) })
          .then(async (r) => (r.ok ? parseMetrics(await r.text()) : undefined))
          .catch(() => undefined),
      ),
    );
    const ok = [...read.filter((s): s is Sample[] => s !== undefined), ...texts.map(parseMetrics)];
    return ok.length ? ok.flat() : undefined;
  }
}
