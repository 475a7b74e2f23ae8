import { Counter, Gauge, type Registry } from 'prom-client';

type FnLabels = 'namespace' | 'function' | 'revision';

/** Every decision's inputs and result as Prometheus series, per revision of a function. */
export class AutoscalerMetrics {
  readonly desired: Gauge<FnLabels>;
  readonly current: Gauge<FnLabels>;
  readonly ready: Gauge<FnLabels>;
  readonly stable: Gauge<FnLabels>;
  readonly panic: Gauge<FnLabels>;
  readonly target: Gauge<FnLabels>;
  readonly panicMode: Gauge<FnLabels>;
  readonly decisions: Counter<FnLabels | 'result'>;
  readonly writes: Counter<FnLabels | 'reason'>;
  readonly drains: Counter<FnLabels | 'outcome'>;
  readonly direct: Counter<FnLabels>;

  constructor(registry: Registry) {
    const registers = [registry];
    const gauge = (name: string, help: string) =>
      new Gauge({
        name: `trellis_autoscaler_${name}`,
        help,
        labelNames: ['namespace', 'function', 'revision'],
        registers,
      });
    this.desired = gauge('desired_replicas', 'Instances the last decision asked for.');
    this.current = gauge('current_replicas', 'Replicas of the workload when the last decision was made.');
    this.ready = gauge('ready_instances', 'Ready instances the last decision saw.');
    this.stable = gauge('stable_concurrency', 'Average concurrency over the stable window (decision input).');
    this.panic = gauge(
      'panic_concurrency',
      'Average concurrency over the panic window, or the burst that triggered the decision (decision input).',
    );
    this.target = gauge('target_concurrency', 'Concurrency target per instance (decision input).');
    this.panicMode = gauge('panic_mode', '1 while panicking.');
    this.decisions = new Counter({
      name: 'trellis_autoscaler_decisions_total',
      help: 'Decisions, by result: up, down, zero, hold.',
      labelNames: ['namespace', 'function', 'revision', 'result'],
      registers,
    });
    this.writes = new Counter({
      name: 'trellis_autoscaler_scale_writes_total',
      help: 'Replica writes through the scale subresource, by reason: activation, up, down.',
      labelNames: ['namespace', 'function', 'revision', 'reason'],
      registers,
    });
    this.drains = new Counter({
      name: 'trellis_autoscaler_drains_total',
      help: 'Scale-down drains, by outcome: committed, called-off, unsettled (instances still starting), failed.',
      labelNames: ['namespace', 'function', 'revision', 'outcome'],
      registers,
    });
    this.direct = new Counter({
      name: 'trellis_autoscaler_direct_requests_total',
      help:
        'Requests instances took straight from their Service (serve mode), read from their meters by the ' +
        "leader's autoscaler; with trellis_activator_requests_total, every request counted once.",
      labelNames: ['namespace', 'function', 'revision'],
      registers,
    });
  }
}
