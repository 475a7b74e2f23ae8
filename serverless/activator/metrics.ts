import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { RevisionTraffic } from './revision-traffic.js';

type Labels = 'namespace' | 'function' | 'revision';

/** The activator's Prometheus metrics. Gauges are computed when scraped: nothing per request but a counter and a histogram. */
export class ActivatorMetrics {
  readonly requests: Counter<Labels | 'code'>;
  readonly duration: Histogram<Labels>;
  readonly activations: Counter<Labels>;

  constructor(registry: Registry, revisions: () => Iterable<RevisionTraffic>) {
    const registers = [registry];
    this.requests = new Counter({
      name: 'trellis_activator_requests_total',
      help: 'Requests the activator answered, by status code (503: hold queue full; 504: timeout; 499: client went away).',
      labelNames: ['namespace', 'function', 'revision', 'code'],
      registers,
    });
    this.duration = new Histogram({
      name: 'trellis_activator_request_duration_seconds',
      help: 'Time from arrival at the activator to the end of the answer, hold time included.',
      labelNames: ['namespace', 'function', 'revision'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.activations = new Counter({
      name: 'trellis_activator_activations_total',
      help: 'Scale-ups the activator asked for because requests waited with no instance ready (one per burst).',
      labelNames: ['namespace', 'function', 'revision'],
      registers,
    });
    const perRevision = (name: string, help: string, value: (t: RevisionTraffic) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['namespace', 'function', 'revision'],
        registers,
        collect() {
          this.reset();
          for (const t of revisions())
            this.set({ namespace: t.config.namespace, function: t.config.function, revision: t.config.name }, value(t));
        },
      });
    perRevision(
      'trellis_activator_concurrency',
      "Requests in the activator now (held + proxied): the autoscaler's input.",
      (t) => t.meter.current,
    );
    perRevision('trellis_activator_queued', 'Requests waiting in the hold queue.', (t) => t.queue.length);
    perRevision('trellis_activator_ready_instances', 'Instances receiving requests.', (t) => t.readyCount);
  }
}
