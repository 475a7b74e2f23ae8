import { Counter, Histogram, type Registry } from 'prom-client';
import type { SyncResultKind } from './status.js';

/** Prometheus metrics of GitOps syncs, registered on the given registry. */
export class GitOpsMetrics {
  private readonly syncs: Counter<'result'>;
  private readonly duration: Histogram<'result'>;

  constructor(registry: Registry) {
    this.syncs = new Counter({
      name: 'trellis_gitsync_syncs_total',
      help: 'GitSync sync attempts, by result.',
      labelNames: ['result'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'trellis_gitsync_sync_duration_seconds',
      help: 'Time of one GitSync sync (fetch to status), by result.',
      labelNames: ['result'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    });
  }

  observe(result: SyncResultKind, seconds: number): void {
    this.syncs.inc({ result });
    this.duration.observe({ result }, seconds);
  }
}
