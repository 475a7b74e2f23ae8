/**
 * Metrics every Trellis process exports, whatever it runs (controllers, webhook, serverless runtime):
 * client-go's REST client metrics and `trellis_build_info`. See docs/metrics.md.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RequestRecord } from '../kube/index.js';

/** Seconds, 1 ms to 60 s: controller-runtime's reconcile buckets, finer below 50 ms (most reconciles take a few ms). */
export const SECONDS_BUCKETS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75,
  1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60,
];

/**
 * client-go's REST client metrics — `rest_client_requests_total{code,method,host}` (code `<error>`
 * when no answer arrived) and `rest_client_request_duration_seconds{verb,host}` — for every process
 * that talks to the API server (controllers, webhook, serverless runtime).
 */
export class RestClientMetrics {
  readonly requests: Counter<'code' | 'method' | 'host'>;
  readonly latency: Histogram<'verb' | 'host'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'rest_client_requests_total',
      help: 'Number of HTTP requests, partitioned by status code, method, and host.',
      labelNames: ['code', 'method', 'host'],
      registers: [registry],
    });
    this.latency = new Histogram({
      name: 'rest_client_request_duration_seconds',
      help: 'Request latency in seconds. Broken down by verb and host.',
      labelNames: ['verb', 'host'],
      buckets: SECONDS_BUCKETS,
      registers: [registry],
    });
  }

  /** A `Connection.observe` observer. */
  readonly observe = (r: RequestRecord): void => {
    this.requests.inc({ code: r.status ? String(r.status) : '<error>', method: r.method, host: r.host });
    this.latency.observe({ verb: r.method, host: r.host }, r.durationMs / 1000);
  };
}

/**
 * Registers `trellis_build_info{version,node_version,kubernetes_version} 1` (as `argocd_info`,
 * `gotk_info`...): which build runs where, for dashboards and alerts on mixed versions.
 */
export function registerBuildInfo(registry: Registry, build: BuildInfo): void {
  const gauge = new Gauge({
    name: 'trellis_build_info',
    help: 'Trellis build information (always 1): version, Node.js, Kubernetes of its local control plane.',
    labelNames: ['version', 'node_version', 'kubernetes_version'],
    registers: [registry],
  });
  gauge.set(
    { version: build.version, node_version: process.version, kubernetes_version: build.kubernetesVersion ?? '' },
    1,
  );
}

/** What `trellis_build_info` says. */
export interface BuildInfo {
  /** Trellis' version (package.json). */
  version: string;
  /** Kubernetes version of the local control plane Trellis builds. */
  kubernetesVersion?: string;
}
