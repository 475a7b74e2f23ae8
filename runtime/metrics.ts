import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from '../kube/index.js';

/**
 * The runtime's Prometheus metrics, in a registry of their own (never prom-client's global one, so
 * two managers in one process — tests, benchmarks — do not clash). Served at `/metrics`.
 *
 * | metric | labels |
 * |---|---|
 * | `trellis_reconcile_total` | controller, result (`success`, `requeue`, `error`, `terminal`) |
 * | `trellis_reconcile_errors_total` | controller |
 * | `trellis_reconcile_duration_seconds` (histogram) | controller |
 * | `trellis_workqueue_depth` | controller |
 * | `trellis_workqueue_adds_total` | controller |
 * | `trellis_active_workers` | controller |
 * | `trellis_kube_requests_total` | method, code (`0` = no answer) |
 * | `trellis_leader` | — (1 while this replica leads) |
 * | `process_*`, `nodejs_*` | prom-client defaults (CPU, RSS, event loop lag) |
 */
export class RuntimeMetrics {
  readonly registry: Registry;
  readonly reconciles: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  readonly reconcileDuration: Histogram<'controller'>;
  readonly queueDepth: Gauge<'controller'>;
  readonly queueAdds: Counter<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly kubeRequests: Counter<'method' | 'code'>;
  readonly leader: Gauge;

  constructor(options: { registry?: Registry; defaultMetrics?: boolean } = {}) {
    const registers = [(this.registry = options.registry ?? new Registry())];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.reconciles = new Counter({ name: 'trellis_reconcile_total', help: 'Reconciles by controller and result.', labelNames: ['controller', 'result'], registers });
    this.reconcileErrors = new Counter({ name: 'trellis_reconcile_errors_total', help: 'Reconciles that threw.', labelNames: ['controller'], registers });
    this.reconcileDuration = new Histogram({
      name: 'trellis_reconcile_duration_seconds',
      help: 'Time per reconcile.',
      labelNames: ['controller'],
      buckets: [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.queueDepth = new Gauge({ name: 'trellis_workqueue_depth', help: 'Keys waiting in the work queue.', labelNames: ['controller'], registers });
    this.queueAdds = new Counter({ name: 'trellis_workqueue_adds_total', help: 'Keys added to the work queue.', labelNames: ['controller'], registers });
    this.activeWorkers = new Gauge({ name: 'trellis_active_workers', help: 'Reconciles running now.', labelNames: ['controller'], registers });
    this.kubeRequests = new Counter({ name: 'trellis_kube_requests_total', help: 'Requests to the Kubernetes API by method and HTTP status.', labelNames: ['method', 'code'], registers });
    this.leader = new Gauge({ name: 'trellis_leader', help: '1 while this replica is the leader (or runs without leader election).', registers });
  }

  /** A {@link RequestRecord} observer for `Connection.observe`. */
  readonly observeRequest = (r: RequestRecord): void => {
    this.kubeRequests.inc({ method: r.method, code: String(r.status) });
  };
}
