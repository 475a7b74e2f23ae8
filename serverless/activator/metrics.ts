import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { FunctionTraffic } from './function-traffic.js';

/** The activator's Prometheus metrics. Gauges are computed when scraped: nothing per request but a counter and a histogram. */
export class ActivatorMetrics {
  readonly requests: Counter<'namespace' | 'function' | 'code'>;
  readonly duration: Histogram<'namespace' | 'function'>;
  readonly activations: Counter<'namespace' | 'function'>;

  constructor(registry: Registry, functions: () => Iterable<FunctionTraffic>) {
    const registers = [registry];
    this.requests = new Counter({ name: 'trellis_activator_requests_total', help: 'Requests the activator answered, by status code (503: hold queue full; 504: timeout; 499: client went away).', labelNames: ['namespace', 'function', 'code'], registers });
    this.duration = new Histogram({
      name: 'trellis_activator_request_duration_seconds',
      help: 'Time from arrival at the activator to the end of the answer, hold time included.',
      labelNames: ['namespace', 'function'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.activations = new Counter({ name: 'trellis_activator_activations_total', help: 'Scale-ups the activator asked for because requests waited with no instance ready (one per burst).', labelNames: ['namespace', 'function'], registers });
    const perFunction = (name: string, help: string, value: (t: FunctionTraffic) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['namespace', 'function'],
        registers,
        collect() {
          this.reset();
          for (const t of functions()) this.set({ namespace: t.config.namespace, function: t.config.name }, value(t));
        },
      });
    perFunction('trellis_activator_concurrency', 'Requests in the activator now (held + proxied): the autoscaler\'s input.', (t) => t.meter.current);
    perFunction('trellis_activator_queued', 'Requests waiting in the hold queue.', (t) => t.queue.length);
    perFunction('trellis_activator_ready_instances', 'Instances receiving requests.', (t) => t.readyCount);
  }
}
