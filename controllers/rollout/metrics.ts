import { Counter, type Registry } from 'prom-client';
import type { MetricResult } from './types.js';

/**
 * Prometheus metrics of the Rollout controller, on the manager's registry (served at `/metrics`).
 *
 * | metric | labels |
 * |---|---|
 * | `trellis_rollout_transitions_total` | reason (`Started`, `StepStarted`, `Promoted`, `Completed`, `RolledBack`, `Aborted`, ...) |
 * | `trellis_rollout_measurements_total` | result (`Successful`, `Failed`, `Inconclusive`) |
 */
export class RolloutMetrics {
  private readonly transitions: Counter<'reason'>;
  private readonly measurements: Counter<'result'>;

  constructor(registry: Registry) {
    this.transitions = new Counter({
      name: 'trellis_rollout_transitions_total',
      help: 'Rollout state changes, by the reason of their Event.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.measurements = new Counter({
      name: 'trellis_rollout_measurements_total',
      help: 'Analysis measurements of rollouts, by result.',
      labelNames: ['result'],
      registers: [registry],
    });
  }

  transition(reason: string): void {
    this.transitions.inc({ reason });
  }

  measured(results: MetricResult[]): void {
    for (const r of results) this.measurements.inc({ result: r.phase });
  }
}
