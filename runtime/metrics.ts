import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from '../kube/index.js';
import { registerBuildInfo, RestClientMetrics, SECONDS_BUCKETS, type BuildInfo } from '../lib/metrics.js';

export { registerBuildInfo, RestClientMetrics, type BuildInfo } from '../lib/metrics.js';
import type { QueueMetrics, WorkQueue } from './queue.js';

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
 * | `trellis_shard_transitions_total` | event (`acquired`, `released`, `lost`) — with sharding |
 * | `trellis_shard_owned` | shard, replica: 1 for each shard this replica reconciles now — with sharding |
 * | `trellis_shard_holder` | shard, replica: 1 for the holder of each shard as this replica sees it — with sharding |
 * | `trellis_shard_replicas` | — live replicas of the group as this replica sees them — with sharding |
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
  readonly shardTransitions: Counter<'event'>;
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
      buckets: SECONDS_BUCKETS,
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
    this.shardTransitions = new Counter({
      name: 'trellis_shard_transitions_total',
      help: 'Shards this replica acquired, handed over (released) or lost.',
      labelNames: ['event'],
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

/** What the shard gauges read: who holds what (see shards.ts). */
export interface ShardSource {
  identity: string;
  ownedShards(): number[];
  snapshot(): { shards: number; holders: string[]; replicas: string[] };
}

/** Registers the shard gauges, read from `source` at each scrape (see the table on {@link RuntimeMetrics}). */
export function shardMetrics(registry: Registry, source: ShardSource): void {
  const registers = [registry];
  new Gauge({
    name: 'trellis_shard_owned',
    help: '1 for each shard whose keys this replica reconciles now.',
    labelNames: ['shard', 'replica'],
    registers,
    collect() {
      this.reset();
      for (const shard of source.ownedShards()) this.set({ shard: String(shard), replica: source.identity }, 1);
    },
  });
  new Gauge({
    name: 'trellis_shard_holder',
    help: 'The holder of each shard, as this replica sees it (1 per shard; no sample while a shard is free).',
    labelNames: ['shard', 'replica'],
    registers,
    collect() {
      this.reset();
      source
        .snapshot()
        .holders.forEach((holder, shard) => holder && this.set({ shard: String(shard), replica: holder }, 1));
    },
  });
  new Gauge({
    name: 'trellis_shard_replicas',
    help: 'Live replicas of the shard group, as this replica sees them.',
    registers,
    collect() {
      this.set(source.snapshot().replicas.length);
    },
  });
}
