import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from '../kube/index.js';
import type { QueueMetrics, WorkQueue } from './queue.js';

/** Seconds, 1 ms to 60 s: controller-runtime's reconcile buckets, finer below 50 ms (most reconciles take a few ms). */
const SECONDS = [
  0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5,
  0.75, 1, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 30, 60,
];
/** client-go's workqueue buckets: 1 µs to 10 s by powers of ten. */
const QUEUE_SECONDS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10];

/**
 * The runtime's Prometheus metrics, named and labelled as controller-runtime and client-go name
 * theirs, so the dashboards and alerts people already have for Go controllers work unchanged
 * (docs/metrics.md lists every metric). A registry of their own (never prom-client's global one,
 * so two managers in one process — tests, benchmarks — do not clash), served at `/metrics`.
 *
 * | metric | labels |
 * |---|---|
 * | `controller_runtime_reconcile_total` | controller, result (`success`, `error`, `requeue_after`) |
 * | `controller_runtime_reconcile_errors_total` | controller |
 * | `controller_runtime_terminal_reconcile_errors_total` | controller |
 * | `controller_runtime_reconcile_time_seconds` (histogram) | controller |
 * | `controller_runtime_active_workers`, `controller_runtime_max_concurrent_reconciles` | controller |
 * | `workqueue_depth`, `workqueue_adds_total`, `workqueue_retries_total` | name, controller |
 * | `workqueue_queue_duration_seconds`, `workqueue_work_duration_seconds` (histograms) | name, controller |
 * | `workqueue_unfinished_work_seconds`, `workqueue_longest_running_processor_seconds` | name, controller |
 * | `rest_client_requests_total` | code (`<error>` = no answer), method, host |
 * | `rest_client_request_duration_seconds` (histogram) | verb, host |
 * | `leader_election_master_status` | name (the Lease; 1 while this replica leads) |
 * | `trellis_build_info` | version, node_version, kubernetes_version (always 1) |
 * | `process_*`, `nodejs_*` | prom-client defaults (CPU, RSS, event loop lag) |
 */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly terminalErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly maxConcurrentReconciles: Gauge<'controller'>;
  readonly queueDepth: Gauge<'name' | 'controller'>;
  readonly queueAdds: Counter<'name' | 'controller'>;
  readonly queueRetries: Counter<'name' | 'controller'>;
  readonly queueLatency: Histogram<'name' | 'controller'>;
  readonly workDuration: Histogram<'name' | 'controller'>;
  readonly rest: RestClientMetrics;
  readonly leader: Gauge<'name'>;
  private readonly queues = new Map<string, WorkQueue>();

  constructor(options: { registry?: Registry; defaultMetrics?: boolean; build?: BuildInfo } = {}) {
    const registers = [(this.registry = options.registry ?? new Registry())];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const queue = ['name', 'controller'] as const;
    this.reconciles = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller.',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller.',
      labelNames: ['controller'],
      registers,
    });
    this.terminalErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller (not retried).',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller.',
      labelNames: ['controller'],
      buckets: SECONDS,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller.',
      labelNames: ['controller'],
      registers,
    });
    this.maxConcurrentReconciles = new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller.',
      labelNames: ['controller'],
      registers,
    });
    this.queueDepth = new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue.',
      labelNames: queue,
      registers,
    });
    this.queueAdds = new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue.',
      labelNames: queue,
      registers,
    });
    this.queueRetries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue.',
      labelNames: queue,
      registers,
    });
    this.queueLatency = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested.',
      labelNames: queue,
      buckets: QUEUE_SECONDS,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes.',
      labelNames: queue,
      buckets: QUEUE_SECONDS,
      registers,
    });
    const queues = this.queues;
    new Gauge({
      name: 'workqueue_unfinished_work_seconds',
      help:
        'How many seconds of work has been done that is in progress and has not been observed by work_duration. ' +
        'Large values indicate stuck threads.',
      labelNames: queue,
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name, controller: name }, q.inFlightSeconds().total);
      },
    });
    new Gauge({
      name: 'workqueue_longest_running_processor_seconds',
      help: 'How many seconds has the longest running processor for workqueue been running.',
      labelNames: queue,
      registers,
      collect() {
        for (const [name, q] of queues) this.set({ name, controller: name }, q.inFlightSeconds().longest);
      },
    });
    this.rest = new RestClientMetrics(this.registry);
    this.leader = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master.',
      labelNames: ['name'],
      registers,
    });
    if (options.build) registerBuildInfo(this.registry, options.build);
  }

  /** The hooks a {@link WorkQueue} named `name` reports through. */
  queueMetrics(name: string): QueueMetrics {
    const labels = { name, controller: name };
    return {
      depth: (n) => this.queueDepth.set(labels, n),
      added: () => this.queueAdds.inc(labels),
      retried: () => this.queueRetries.inc(labels),
      waited: (seconds) => this.queueLatency.observe(labels, seconds),
      worked: (seconds) => this.workDuration.observe(labels, seconds),
    };
  }

  /** Reports the queue's in-flight work (unfinished, longest running) at each scrape. */
  trackQueue(name: string, queue: WorkQueue): void {
    this.queues.set(name, queue);
  }

  /** A {@link RequestRecord} observer for `Connection.observe`. */
  readonly observeRequest = (r: RequestRecord): void => this.rest.observe(r);
}

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
      buckets: SECONDS,
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
  gauge.set({ version: build.version, node_version: process.version, kubernetes_version: build.kubernetesVersion ?? '' }, 1);
}

/** What `trellis_build_info` says. */
export interface BuildInfo {
  /** Trellis' version (package.json). */
  version: string;
  /** Kubernetes version of the local control plane Trellis builds. */
  kubernetesVersion?: string;
}
