import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from '../kube/index.js';
import { registerBuildInfo, RestClientMetrics, type BuildInfo } from '../lib/metrics.js';

/** `allowed`, `denied` (the handler said no) or `error` (the webhook failed; also a denial). */
export type Outcome = 'allowed' | 'denied' | 'error';

/**
 * The webhook's Prometheus metrics, registered on `registry`:
 * - `trellis_webhook_admission_duration_seconds{webhook,operation,outcome}`: time from receiving a
 *   review to answering it, per webhook (histogram, buckets from 0.5 ms to 5 s);
 * - `trellis_webhook_denials_total{webhook,code}`: denials by error code;
 * - `trellis_webhook_certificate_reloads_total{outcome}`: serving certificate reloads (`loaded`, `rejected`);
 * - `trellis_webhook_connections_total`: TLS connections accepted (each a handshake; the API server
 *   keeps its connections alive, so this grows with its connection pool, not with reviews);
 * - `rest_client_requests_total{code,method,host}`, `rest_client_request_duration_seconds{verb,host}`:
 *   requests to the API server (definition lookups), named as client-go's, through {@link observeRequest};
 * - `trellis_build_info` when `build` is given;
 * - prom-client's process metrics (CPU, RSS, event loop lag) unless `defaultMetrics` is false.
 * One registry per instance (never the global one), as in runtime/.
 */
export class WebhookMetrics {
  readonly duration: Histogram<'webhook' | 'operation' | 'outcome'>;
  readonly denials: Counter<'webhook' | 'code'>;
  readonly certificateReloads: Counter<'outcome'>;
  readonly connections: Counter;
  readonly rest: RestClientMetrics;
  readonly registry: Registry;

  constructor(options: { registry?: Registry; defaultMetrics?: boolean; build?: BuildInfo } = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
    if (options.build) registerBuildInfo(registry, options.build);
    this.duration = new Histogram({
      name: 'trellis_webhook_admission_duration_seconds',
      help: 'Time to answer one AdmissionReview, per webhook.',
      labelNames: ['webhook', 'operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.denials = new Counter({
      name: 'trellis_webhook_denials_total',
      help: 'Denied admission requests, by error code.',
      labelNames: ['webhook', 'code'],
      registers: [registry],
    });
    this.certificateReloads = new Counter({
      name: 'trellis_webhook_certificate_reloads_total',
      help: 'Serving certificate reloads from disk.',
      labelNames: ['outcome'],
      registers: [registry],
    });
    this.connections = new Counter({
      name: 'trellis_webhook_connections_total',
      help: 'TLS connections accepted (each one a handshake).',
      registers: [registry],
    });
    this.rest = new RestClientMetrics(registry);
  }

  /** A `Connection.observe` observer: counts the webhook's requests to the API server. */
  readonly observeRequest = (r: RequestRecord): void => this.rest.observe(r);
}
