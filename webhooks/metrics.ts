import { Counter, Histogram, Registry } from 'prom-client';

/** `allowed`, `denied` (the handler said no) or `error` (the webhook failed; also a denial). */
export type Outcome = 'allowed' | 'denied' | 'error';

/**
 * The webhook's Prometheus metrics, registered on `registry`:
 * - `trellis_webhook_admission_duration_seconds{webhook,operation,outcome}`: time from receiving a
 *   review to answering it, per webhook (histogram, buckets from 0.5 ms to 5 s);
 * - `trellis_webhook_denials_total{webhook,code}`: denials by error code;
 * - `trellis_webhook_certificate_reloads_total{outcome}`: serving certificate reloads (`loaded`, `rejected`).
 */
export class WebhookMetrics {
  readonly duration: Histogram<'webhook' | 'operation' | 'outcome'>;
  readonly denials: Counter<'webhook' | 'code'>;
  readonly certificateReloads: Counter<'outcome'>;

  constructor(readonly registry: Registry = new Registry()) {
    this.duration = new Histogram({
      name: 'trellis_webhook_admission_duration_seconds',
      help: 'Time to answer one AdmissionReview, per webhook.',
      labelNames: ['webhook', 'operation', 'outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    this.denials = new Counter({ name: 'trellis_webhook_denials_total', help: 'Denied admission requests, by error code.', labelNames: ['webhook', 'code'], registers: [registry] });
    this.certificateReloads = new Counter({ name: 'trellis_webhook_certificate_reloads_total', help: 'Serving certificate reloads from disk.', labelNames: ['outcome'], registers: [registry] });
  }
}
